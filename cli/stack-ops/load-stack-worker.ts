/** The worker thread that loads an operation's stack file (`load-stack.ts`). */
import { answerFromThread } from "../worker-thread";
import { prepareStack } from "./load-stack";

answerFromThread(({ file, handoffDir }: { file: string; handoffDir: string }) => prepareStack(file, handoffDir));
