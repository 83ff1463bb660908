import { memoryStore } from "../../src/index.js";
import { describeStoreConformance } from "./store-suite.js";

describeStoreConformance("memoryStore", async () => memoryStore());
