/**
 * The scheduled tasks of a service, as `Service.ts` and `ServiceImpl` use them: fixed-delay
 * or fixed-rate timers (`timerTask.ts`), crontabs (`crontabTask.ts`) and `itertimer`
 * (`timer.ts`).
 */
export { crontab } from "./crontabTask.js"
export { itertimer } from "./timer.js"
export { timer } from "./timerTask.js"
