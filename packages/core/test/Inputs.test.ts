/**
 * Bad input fails when declared, naming the option (or argument) and the value: the sweep of
 * the seventh session (options of the wrong kind, unknown keys, timers' resolution, the
 * arguments of launch, supervisors and the waits).
 */
import { describe, expect } from "@effect/vitest"
import { Cause, Effect, Either, Exit, Layer } from "effect"
import { Crontab, HealthCheck, Service, Supervisor, Timer } from "@effect-mode/core"
import { it } from "./support/it.js"

const defectOf = <A, E>(exit: Exit.Exit<A, E>): string => {
  if (Exit.isSuccess(exit)) return "success"
  const defect = Cause.dieOption(exit.cause)
  return defect._tag === "Some" ? String(defect.value) : Cause.pretty(exit.cause)
}

const noop = () => Effect.void

/** The exit of a call given wrong input on purpose (its requirements typed as nothing). */
const exitOf = (effect: Effect.Effect<unknown, unknown, any>) => Effect.exit(effect as Effect.Effect<unknown, unknown>)

describe("timers' intervals: at least 1 ms and finite", () => {
  it.plain("Service.timer, Timer.make and itertimer refuse a sub-millisecond or infinite interval, naming it", () => {
    for (const interval of ["0.4 millis", "1 nanos", [0, 1] as const, Infinity] as const) {
      expect(() => Service.timer(interval as any, noop)).toThrow(/Invalid interval of Service\.timer noop: .* at least 1 millisecond/)
      expect(() => Effect.runSync(Timer.make(interval as any))).toThrow(/Invalid interval of timer timer: .* at least 1 millisecond/)
    }
    expect(() => Service.timer("1 millis", noop)).not.toThrow()
    expect(Effect.runSync(Timer.make("1 millis")).name).toBe("timer")
  })

  it.effect("itertimer refuses one too", () =>
    Effect.gen(function*() {
      const s = yield* Service.make("S")
      expect(() => s.itertimer("0.5 millis")).toThrow(/Invalid interval of itertimer itertimer/)
    }))
})

describe("options that are not an object", () => {
  it.plain("task, timer, crontab, Timer.make, fromEffect, supervisors, supervisorGroup and Tag throw naming them", () => {
    expect(() => Service.task(noop, null as any)).toThrow(/Invalid options of Service\.task: "null" \(expected an object\)/)
    expect(() => Service.timer("1 second", noop, null as any)).toThrow(/Invalid options of Service\.timer: "null"/)
    expect(() => Service.crontab("* * * * *", noop, null as any)).toThrow(/Invalid options of Service\.crontab\("\* \* \* \* \*"\): "null"/)
    expect(() => Effect.runSync(Timer.make("1 second", null as any))).toThrow(/Invalid options of Timer\.make: "null"/)
    expect(() => Service.fromEffect(Effect.void, null as any)).toThrow(/Invalid options of Service\.fromEffect: "null"/)
    expect(() => Supervisor.oneForOne("S", [], null as any)).toThrow(/Invalid options of supervisor "S": "null"/)
    expect(() => Service.supervisorGroup("G", null as any)).toThrow(/Invalid options of Service\.supervisorGroup\("G"\): "null"/)
    expect(() => Service.Tag<any>()("X", undefined as any)).toThrow(/Invalid options of Service\.Tag\("X"\): "undefined"/)
  })

  it.effect("Service.make with null options dies naming them (as for a bad label)", () =>
    Effect.gen(function*() {
      expect(defectOf(yield* exitOf(Service.make("A", null as any)))).toMatch(/Invalid options of Service\.make\("A"\): "null"/)
      expect(defectOf(yield* exitOf(Service.make("A", "x" as any)))).toMatch(/Invalid options of Service\.make\("A"\): "x"/)
    }))

  it.plain("Service.timer without a function names the function, not a property read", () => {
    expect(() => Service.timer("1 second", undefined as any)).toThrow(/Invalid function of Service\.timer: "undefined" is not a function/)
  })
})

describe("unknown option keys of the small option sets", () => {
  it.plain("a misspelt option throws naming it and the known ones (a crontab's timeZone would run in UTC)", () => {
    expect(() => Service.crontab("0 20 * * *", noop, { timeZone: "America/Los_Angeles" } as any))
      .toThrow(/Unknown option "timeZone" of Service\.crontab\("0 20 \* \* \*"\) \(known: name, onError, timezone\)/)
    expect(() => Service.timer("1 second", noop, { exec_first: true } as any)).toThrow(/Unknown option "exec_first" of Service\.timer/)
    expect(() => Service.task(noop, { nmae: "x" } as any)).toThrow(/Unknown option "nmae" of Service\.task/)
    expect(() => Effect.runSync(Timer.make("1 second", { nam: "x" } as any))).toThrow(/Unknown option "nam" of Timer\.make/)
    expect(() => Service.fromEffect(Effect.void, { label: "x" } as any)).toThrow(/Unknown option "label" of Service\.fromEffect/)
    expect(() => Crontab.unsafeParse("* * * * *", { tz: "UTC" } as any)).toThrow(/Unknown option "tz" of Crontab\.parse/)
    expect(() => Supervisor.oneForOne("S", [], { maxRestart: 3 } as any)).toThrow(/Unknown option "maxRestart" of supervisor "S"/)
    expect(() => HealthCheck.make("h", Effect.void, { timout: "1 second" } as any)).toThrow(/Unknown option "timout" of HealthCheck\.make\("h"\)/)
    expect(() => Service.Tag<any>()("T", { sync: () => ({}), scope: Effect.void } as any)).toThrow(/Unknown option "scope" of Service\.Tag\("T"\)/)
    expect(() => Service.Tag<any>()("T2", { sync: () => ({}), supervise: { maxRestart: 1 } } as any))
      .toThrow(/Unknown option "maxRestart" of supervise of service T2/)
    expect(() => Service.supervisorGroup("G", { restart: "temporary" } as any)).toThrow(/Unknown option "restart" of Service\.supervisorGroup\("G"\)/)
  })

  it.effect("Service.make: a misspelt option dies naming it (stopTimout was ignored)", () =>
    Effect.gen(function*() {
      expect(defectOf(yield* exitOf(Service.make("A", { stopTimout: "1 second" } as any))))
        .toMatch(/Unknown option "stopTimout" of Service\.make\("A"\) \(known: onFirstStart, onStart/)
    }))
})

describe("Crontab.parse returns Left for bad options too", () => {
  it.plain("null options, a zone given in the options' place (mode's secs_for_next(expr, tz)), an unknown key", () => {
    const nul = Crontab.parse("* * * * *", null as any)
    expect(Either.isLeft(nul)).toBe(true)
    expect(Either.getLeft(nul).pipe((l) => l._tag === "Some" && l.value.message)).toMatch(/Invalid options of Crontab\.parse\("\* \* \* \* \*"\): "null"/)
    const positional = Crontab.parse("0 20 * * *", "America/Los_Angeles" as any)
    expect(Either.isLeft(positional)).toBe(true)
    expect(() => Crontab.unsafeParse("0 20 * * *", "America/Los_Angeles" as any)).toThrow(/expected an object: \{ timezone: "America\/Los_Angeles" \}/)
    expect(() => Effect.runSync(Crontab.secsForNext("0 20 * * *", "America/Los_Angeles" as any))).toThrow(/expected an object/)
    expect(Either.isRight(Crontab.parse("0 20 * * *", { timezone: "America/Los_Angeles" }))).toBe(true)
  })
})

describe("a Tag's dependencies are layers, checked when declared", () => {
  it.plain("mode's dependencies hook, a string, a list holding a non-layer: TypeError naming dependencies", () => {
    expect(() => Service.Tag<any>()("K", { scoped: Effect.succeed({}), dependencies: () => Effect.succeed([]) } as any))
      .toThrow(/Invalid dependencies of Service\.Tag\("K"\): .* is not an array of layers .*the dependencies hook \(self\) => Effect is Service\.make's option/)
    expect(() => Service.Tag<any>()("K2", { scoped: Effect.succeed({}), dependencies: "x" } as any))
      .toThrow(/Invalid dependencies of Service\.Tag\("K2"\): "x" is not an array of layers/)
    expect(() => Service.Tag<any>()("K3", { scoped: Effect.succeed({}), dependencies: [Layer.empty, 5] } as any))
      .toThrow(/Invalid dependencies of Service\.Tag\("K3"\): "5" is not a layer/)
    expect(() => Service.Tag<any>()("K4", { scoped: Effect.succeed({}), dependencies: [Layer.empty] })).not.toThrow()
  })
})

describe("Service.supervisorGroup checks its label and options when declared", () => {
  it.plain("a bad label, maxRestarts, strategy or within throws naming supervisorGroup", () => {
    expect(() => Service.supervisorGroup("a/b")).toThrow(/Invalid label of Service\.supervisorGroup: "a\/b"/)
    expect(() => Service.supervisorGroup("G", { maxRestarts: -1 })).toThrow(/Invalid maxRestarts of Service\.supervisorGroup\("G"\): "-1"/)
    expect(() => Service.supervisorGroup("G", { strategy: "oneForTwo" as any })).toThrow(/Invalid strategy of Service\.supervisorGroup\("G"\): "oneForTwo"/)
    expect(() => Service.supervisorGroup("G", { within: "soon" as any })).toThrow(/Service\.supervisorGroup\("G"\)/)
    expect(Service.supervisorGroup("G", { strategy: "oneForAll", maxRestarts: 2 }).strategy).toBe("oneForAll")
  })
})

describe("a supervisor's services are checked when it is declared", () => {
  it.effect("not an array, or an element that is not a service: TypeError naming services", () =>
    Effect.gen(function*() {
      expect(() => Supervisor.oneForOne("Sup", null as any)).toThrow(/Invalid services of supervisor "Sup": "null" \(expected an array of services\)/)
      expect(() => Supervisor.oneForOne("Sup", ["x"] as any)).toThrow(/Invalid services\[0\] of supervisor "Sup": "x"/)
      const a = yield* Service.make("A")
      expect(() => Supervisor.oneForAll("Sup", [a, Supervisor.child(a, { restart: "temporary" }), 1] as any)).toThrow(/services\[2\]/)
      const sup = yield* Supervisor.oneForOne("Sup", [a, Supervisor.child(yield* Service.make("B"), { restart: "temporary" })])
      expect(sup.label).toBe("Sup")
    }))
})

describe("the arguments of launch and of the waits", () => {
  it.effect("launch: a non-layer, null options, a root that is not a service, an unknown key: a defect naming it", () =>
    Effect.gen(function*() {
      expect(defectOf(yield* exitOf(Service.launch("x" as any)))).toMatch(/Invalid layer of Service\.launch: "x" is not a Layer/)
      expect(defectOf(yield* exitOf(Service.launch(Layer.empty, null as any)))).toMatch(/Invalid options of Service\.launch: "null"/)
      expect(defectOf(yield* exitOf(Service.launch(Layer.empty, { root: {} as any })))).toMatch(/Invalid root of Service\.launch/)
      expect(defectOf(yield* exitOf(Service.launch(Layer.empty, { lable: "x" } as any)))).toMatch(/Unknown option "lable" of Service\.launch/)
    }))

  it.effect("waitFirst of nothing, or of what is not effects, and waitMany of null: a defect naming them (not a wait until the stop)", () =>
    Effect.gen(function*() {
      const s = yield* Service.make("S")
      yield* s.start
      expect(defectOf(yield* exitOf(s.waitFirst(5 as any)))).toMatch(/Invalid effects of waitFirst on service S: "5" is not an iterable of effects/)
      expect(defectOf(yield* exitOf(s.waitFirst([])))).toMatch(/Invalid effects of waitFirst on service S: no effect to wait for/)
      expect(defectOf(yield* exitOf(s.waitFirst([Effect.void, "x" as any])))).toMatch(/effects\[1\] "x" is not an Effect/)
      expect(defectOf(yield* exitOf(s.waitMany(null as any)))).toMatch(/Invalid effects of waitMany on service S/)
      // the effects are read once, at the call: a generator's run again gives the same
      function* effs() {
        yield Effect.succeed(1)
        yield Effect.succeed(2)
      }
      const first = s.waitFirst(effs())
      const many = s.waitMany(effs())
      expect((yield* first).results).toEqual([1, 2])
      expect((yield* first).results).toEqual([1, 2])
      expect(yield* many).toMatchObject({ _tag: "Completed", result: [1, 2] })
      expect(yield* many).toMatchObject({ _tag: "Completed", result: [1, 2] })
      // waitMany of none: all of none, at once
      expect(yield* s.waitMany([] as Array<Effect.Effect<number>>)).toEqual({ _tag: "Completed", result: [], stopped: false })
      yield* s.stop
    }))
})
