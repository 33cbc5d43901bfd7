/**
 * The PostgreSQL connection pool of one process. Sized and time-bounded from the config: a full
 * pool makes callers wait at most `connectTimeoutMs` for a free connection and then fail with a
 * `DatabaseUnavailableError` (a clear message, no crash), and a connection the server drops while
 * idle (a restart) is logged and replaced instead of taking the process down.
 */
import pg from 'pg';
import { DatabaseUnavailableError } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/log.js';

/** How to reach the database; `Config['database']` with a url. */
export interface PoolSettings {
  url: string;
  poolMax: number;
  connectTimeoutMs: number;
}

export { DatabaseUnavailableError } from '../util/errors.js';

/** Creates the pool. Connections are opened lazily; nothing is contacted until the first query. */
export function createPool(settings: PoolSettings, logger: Logger = silentLogger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: settings.url,
    max: settings.poolMax,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    // Idle connections must not keep a finished command (npm run ask) alive.
    allowExitOnIdle: true,
    application_name: 'newsdesk-bot',
  });
  // Without a listener, an idle connection dropped by a server restart is an uncaught 'error' event.
  pool.on('error', (err) => logger.warn('db.connection_lost', { error: err.message }));
  return pool;
}

/**
 * Runs `fn` with one connection of the pool, released afterwards (destroyed when `fn` failed on
 * a broken connection). A full pool or an unreachable server becomes `DatabaseUnavailableError`.
 */
export async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw unavailable(err);
  }
  let failed: Error | undefined;
  // The pool only listens for errors of idle connections: one lost while checked out (server
  // restart, terminated backend) would otherwise be an uncaught 'error' event. The query in
  // progress rejects on its own; this connection is then discarded instead of reused.
  const onError = (err: Error) => {
    failed = err;
  };
  client.on('error', onError);
  try {
    return await fn(client);
  } catch (err) {
    if (isConnectionError(err)) failed = err as Error;
    throw failed ? unavailable(err) : err;
  } finally {
    client.off('error', onError);
    client.release(failed);
  }
}

/** Runs `fn` inside one transaction (BEGIN … COMMIT, ROLLBACK when it throws). */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    await client.query('BEGIN');
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  });
}

/** Runs one statement on the pool and returns its rows; a connection failure becomes `DatabaseUnavailableError`. */
export async function queryRows<R extends pg.QueryResultRow>(
  db: pg.Pool | pg.PoolClient,
  sql: string,
  params: readonly unknown[] = [],
): Promise<R[]> {
  try {
    return (await db.query<R>(sql, params as unknown[])).rows;
  } catch (err) {
    throw unavailable(err);
  }
}

/** Turns a connection failure into the one-line error callers show; other errors pass through. */
export function unavailable(err: unknown): unknown {
  if (err instanceof DatabaseUnavailableError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/timeout exceeded when trying to connect/i.test(message)) {
    return new DatabaseUnavailableError('The database is busy (no free connection in time); try again in a moment.');
  }
  if (isConnectionError(err))
    return new DatabaseUnavailableError(`The database is unreachable (${message.split('\n')[0]}); try again in a moment.`);
  return err;
}

// Network errors, the server shutting down or terminating us, and pg's own "connection ended" errors.
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
]);

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
    message,
  );
}
