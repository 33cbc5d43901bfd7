/** The config module's public surface; the implementation is in `config.ts`. */
export * from './config.js';
