/**
 * The narrow interface through which a supervisor's logic (entries, jobs, supervision) uses
 * the service it is composed with: its place in the tree, its run, its logs and its crash.
 *
 * @internal
 */
import type { ServiceImpl } from "../service.js"

/** @internal */
export type Host = Pick<
  ServiceImpl,
  | "label"
  | "children"
  | "attach"
  | "placeChild"
  | "pathSync"
  | "run"
  | "stopSignalled"
  | "phase"
  | "log"
  | "crashWith"
  | "userCode"
  | "forkIn"
  | "forkGuarded"
>
