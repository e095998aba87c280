/** The worker thread that loads the stack for the dashboard (`load-stack.ts`). */
import { answerFromThread } from "../worker-thread";
import { loadDashboardStack } from "./load-stack";

answerFromThread(loadDashboardStack);
