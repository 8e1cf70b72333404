/**
 * The tree links of services: parent, children, supervisor link, and every move
 * (attach, detach, addDependency, addRuntimeDependency, removeDependency). The rules of a
 * move live here: no move makes a cycle, and no move takes a service away from a start or
 * stop in flight that holds it (such a start or stop skips a child that left it).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Service from "../../Service.js"
import type * as ServiceError from "../../ServiceError.js"
import { asImpl } from "./handle.js"
import type { ServiceImpl } from "./impl.js"
import * as lifecycle from "./lifecycle.js"

/** 1 for a root. */
export const depth = (s: ServiceImpl): number => {
  let n = 1
  for (let p = s.parent; p !== undefined; p = p.parent) n++
  return n
}

/**
 * The labels from the root down to `s`, joined with "/": one flat string (a `join`), not a
 * chain of concatenations, which V8 would keep as a rope of one node per "/" and label.
 */
export const path = (s: ServiceImpl): string => {
  if (s.parent === undefined) return s.label
  const labels: Array<string> = []
  for (let p: ServiceImpl | undefined = s; p !== undefined; p = p.parent) labels.push(p.label)
  return labels.reverse().join("/")
}

/** True when `other` is `s` or one of its descendants. */
export const contains = (s: ServiceImpl, other: ServiceImpl): boolean => {
  for (let x: ServiceImpl | undefined = other; x !== undefined; x = x.parent) {
    if (x === s) return true
  }
  return false
}

/**
 * True while a start or stop of `s` is in flight and holds its children: a stop, or a start
 * that has not passed its children yet (one in `onStarted`, such as the root of a
 * `Service.launch` waiting for its layer, holds none: the services that join it meanwhile
 * were started by their own layers and may move under a supervisor).
 */
const holdsChildren = (s: ServiceImpl): boolean =>
  s.lifecycle._tag === "Stopping" || (s.lifecycle._tag === "Starting" && lifecycle.runOf(s)?.childrenStarted !== true)

/** Makes `child` a child of `parent`; throws when that would make a cycle or break a start or stop. */
export const attach = (parent: ServiceImpl, child: ServiceImpl): void => {
  if (child.parent === parent) return
  if (contains(child, parent)) {
    throw new Error(`Service ${path(parent)} cannot depend on its own ancestor ${path(child)}`)
  }
  // A start or stop in flight holds on to its children: moving one away from under it could
  // turn the tree upside down under that start (and each would wait for the other).
  const from = child.parent
  if (from !== undefined && holdsChildren(from)) {
    throw new Error(
      `Service ${child.label} cannot move to ${path(parent)} while ${path(from)} is ${lifecycle.phaseOf(from)}`
    )
  }
  // A supervisor link holds only under its supervisor: the crash of a service moved
  // elsewhere climbs its new tree.
  const link = child.supervisor
  if (link !== undefined && link.owner !== parent) link.release(child)
  detach(child)
  child.parent = parent
  parent.children.push(child)
}

/** Moves `child` (a child of `parent`) to `position` among its children (a supervisor's slot order). */
export const place = (parent: ServiceImpl, child: ServiceImpl, position: number): void => {
  const children = parent.children
  const from = children.indexOf(child)
  if (from < 0 || position < 0 || position >= children.length - 1 || from === position) return
  children.splice(from, 1)
  children.splice(position, 0, child)
}

/** Takes `s` out of its parent's children (and the parent's run). */
export const detach = (s: ServiceImpl): void => {
  const parent = s.parent
  if (parent === undefined) return
  const i = parent.children.indexOf(s)
  if (i >= 0) parent.children.splice(i, 1)
  lifecycle.runOf(parent)?.deleteRuntimeChild(s)
  s.parent = undefined
}

/** @internal */
export const addDependency = <S extends Service.Service>(parent: ServiceImpl, child: S): Effect.Effect<S> =>
  Effect.sync(() => {
    attach(parent, asImpl(child))
    return child
  })

/** @internal */
export const addRuntimeDependency = <S extends Service.Service>(
  parent: ServiceImpl,
  child: S
): Effect.Effect<S, ServiceError.ServiceError> =>
  Effect.suspend(() => {
    const impl = asImpl(child)
    attach(parent, impl)
    const run = parent.run
    if (run === undefined || run.closed) return Effect.succeed(child)
    run.addRuntimeChild(impl)
    if (parent.phase !== "running" && parent.phase !== "starting") return Effect.succeed(child)
    return impl.maybeStart.pipe(
      Effect.tapError(() => Effect.sync(() => detach(impl))),
      Effect.as(child)
    )
  })

/** @internal */
export const removeDependency = <S extends Service.Service>(parent: ServiceImpl, child: S): Effect.Effect<S> =>
  Effect.suspend(() => {
    const impl = asImpl(child)
    if (impl.parent !== parent) return Effect.succeed(child)
    const custom = parent.extension?.removeDependency?.(impl)
    if (custom !== undefined) return Effect.as(custom, child)
    return impl.stop.pipe(Effect.zipRight(Effect.sync(() => impl.parent === parent && detach(impl))), Effect.as(child))
  })

/** The children a start or stop of `parent` still holds: those that did not leave it meanwhile. */
export const stillChild = (parent: ServiceImpl, child: ServiceImpl): boolean => child.parent === parent
