/** The answering module's public surface; the implementation is in `answerer.ts`. */
export * from './answerer.js';
