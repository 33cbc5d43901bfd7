/** The chunking module's public surface; the implementation is in `chunker.ts`. */
export * from './chunker.js';
