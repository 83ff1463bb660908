/** The hostile-input battery (battery.ts) against the koa adapter. */
import { hostileBattery } from "./battery.js";

hostileBattery("koa");
