/** The hostile-input battery (battery.ts) against the hono adapter. */
import { hostileBattery } from "./battery.js";

hostileBattery("hono");
