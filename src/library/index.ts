/** The library module's public surface; the implementation is in `library.ts`. */
export * from './library.js';
