// Every ```ts block of docs/operations.md runs as written (see docs-examples.ts).
import { describeDocExamples } from "./docs-examples.js";

describeDocExamples("operations.md", 4);
