/** The articles module's public surface; the implementation is in `loader.ts`. */
export * from './loader.js';
