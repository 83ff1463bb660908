/** The hostile-input battery (battery.ts) against the node adapter. */
import { hostileBattery } from "./battery.js";

hostileBattery("node");
