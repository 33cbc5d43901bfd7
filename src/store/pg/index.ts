/** The pg module's public surface; the implementation is in `pg-index-store.ts`. */
export * from './pg-index-store.js';
