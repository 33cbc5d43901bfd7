/**
 * Entry point of the serving child process (started by `query.ts` through `child.ts`).
 */
import { serveOneInput } from './child.js';
import { serveAndMeasure, type ServeInput, type ServeResult } from './serve.js';

serveOneInput<ServeInput, ServeResult>(serveAndMeasure);
