/**
 * The timers' time: a `Clock`'s monotonic nanoseconds in milliseconds, to the microsecond.
 * `Number(nanos) / 1e6` is off by up to a few hundred nanoseconds at present-day instants
 * (nanoseconds since 1970 are above 2^53, and the TestClock makes them as `millis * 1e6` in
 * floating point), which put a fixed-rate timer off its grid (`Math.ceil(250.0002)` is 251)
 * and its sleeps at fractional instants. Whole milliseconds come back whole.
 *
 * @internal
 */
export const millisOf = (nanos: bigint): number => {
  const whole = nanos / 1_000_000n
  const micros = Math.round(Number(nanos - whole * 1_000_000n) / 1_000)
  return Number(whole) + micros / 1_000
}
