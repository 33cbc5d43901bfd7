/** The alerts module's public surface; the implementation is in `topic-alerts.ts`. */
export * from './topic-alerts.js';
