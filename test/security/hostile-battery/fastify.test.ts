/** The hostile-input battery (battery.ts) against the fastify adapter. */
import { hostileBattery } from "./battery.js";

hostileBattery("fastify");
