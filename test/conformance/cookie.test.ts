import { cookieStore } from "../../src/index.js";
import { describeSessionConformance } from "./store-suite.js";

describeSessionConformance("cookieStore (sealed)", async () => cookieStore());
describeSessionConformance("cookieStore (signed)", async () => cookieStore({ encrypt: false }));
