// Every ```ts block of docs/sessions.md runs as written (see docs-examples.ts).
import { describeDocExamples } from "./docs-examples.js";

describeDocExamples("sessions.md", 6);
