/** The embedding module's public surface; the implementation is in `embedder.ts`. */
export * from './embedder.js';
