/**
 * A TCP proxy that can play a server going away and coming back (PostgreSQL restart tests); the
 * bench's outage rows use the same one.
 */
export { FlakyProxy } from '../../src/bench/tcp-proxy.js';
