/**
 * Entry point of the store-serving child process (started by `pg-retrieval.ts` through `child.ts`).
 */
import { serveOneInput } from './child.js';
import { serveStore, type StoreServeInput, type StoreServeResult } from './store-serve.js';

serveOneInput<StoreServeInput, StoreServeResult>(serveStore);
