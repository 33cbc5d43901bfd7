/** METRICS_PORT, METRICS_HOST and METRICS_TOKEN (docs/observability.md). */
import { describe, expect, it } from 'vitest';
import { parseConfig, secretsOf } from '../../src/config/index.js';

describe('metrics settings', () => {
  it('serve nothing of their own by default, on loopback when a port is given', () => {
    expect(parseConfig({}, '/tmp').metrics).toEqual({ port: undefined, host: '127.0.0.1', token: undefined });
    expect(parseConfig({ METRICS_PORT: ' 9464 ', METRICS_HOST: '0.0.0.0', METRICS_TOKEN: 'scrape-me-please' }, '/tmp').metrics).toEqual({
      port: 9464,
      host: '0.0.0.0',
      token: 'scrape-me-please',
    });
  });

  it('refuse a port that is not one, naming the variable', () => {
    expect(() => parseConfig({ METRICS_PORT: 'http' }, '/tmp')).toThrow(/METRICS_PORT="http"/);
    expect(() => parseConfig({ METRICS_PORT: '70000' }, '/tmp')).toThrow(/METRICS_PORT/);
  });

  it('mask the token in logs like the other secrets', () => {
    expect(secretsOf(parseConfig({ METRICS_TOKEN: 'scrape-me-please' }, '/tmp'))).toContain('scrape-me-please');
  });
});
