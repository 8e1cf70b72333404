/**
 * Handle members that are methods work detached too (`Effect.flatMap(make, parent.addDependency)`):
 * each is bound to its service on first access, so services that never hand out a method
 * pay nothing for it.
 *
 * @internal
 */
export const bindOnAccess = (proto: object, names: ReadonlyArray<string>): void => {
  for (const name of names) {
    const fn = (proto as Record<string, (...args: Array<unknown>) => unknown>)[name]!
    Object.defineProperty(proto, name, {
      configurable: true,
      get(this: object) {
        const bound = fn.bind(this)
        Object.defineProperty(this, name, { value: bound, configurable: true, writable: true })
        return bound
      }
    })
  }
}
