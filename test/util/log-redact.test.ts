/**
 * Masking secrets that do not appear verbatim in a log line: JSON escapes a quote or a backslash
 * in a password, and a DATABASE_URL spells special characters of its password percent-encoded.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig, secretsOf } from '../../src/config/index.js';
import { createLogger } from '../../src/util/log.js';

function logged(secrets: string[], fields: Record<string, unknown>): string {
  const lines: string[] = [];
  createLogger('info', secrets, (l) => lines.push(l)).info('x.y', fields);
  return lines.join('\n');
}

describe('secret masking', () => {
  it('masks a secret holding a quote or a backslash, which JSON escapes in the line', () => {
    const secret = 'pa"ss\\word-123';
    const line = logged([secret], { error: `password ${secret} refused` });
    expect(JSON.parse(line)).toMatchObject({ error: 'password *** refused' });
  });

  it('masks a DATABASE_URL password in the URL (percent-encoded) as well as decoded', () => {
    const config = parseConfig({ DATABASE_URL: 'postgres://bot:s3cr%40t%2Fpw@db.example:5432/news' }, '/tmp');
    const secrets = secretsOf(config);
    const line = logged(secrets, { url: 'postgres://bot:s3cr%40t%2Fpw@db.example:5432/news', said: 'auth s3cr@t/pw failed' });
    expect(line).not.toContain('s3cr%40t%2Fpw');
    expect(line).not.toContain('s3cr@t/pw');
  });
});
