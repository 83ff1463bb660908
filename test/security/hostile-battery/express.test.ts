/** The hostile-input battery (battery.ts) against the express adapter. */
import { hostileBattery } from "./battery.js";

hostileBattery("express");
