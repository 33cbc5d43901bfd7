/** The retrieval module's public surface; the implementation is in `retriever.ts`. */
export * from './retriever.js';
