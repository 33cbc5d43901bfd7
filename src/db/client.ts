/**
 * The small database surface the stores are written against, so the same SQL runs on a
 * node-postgres pool (production) and on PGlite (tests of the pgvector path): queries,
 * transactions, a try-lock, and notifications.
 */
import pg from 'pg';
import { type Logger, silentLogger } from '../util/log.js';
import { type PoolSettings, unavailable, withClient, withTransaction } from './pool.js';

/** Runs SQL with `$n` parameters. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[] }>;
}

/** A database: queries plus what the stores coordinate with. */
export interface Db extends Queryable {
  /** Runs `fn` in one transaction (committed when it resolves, rolled back when it throws). */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` holding the session advisory lock `key` when no one else holds it; resolves to
   * `{ locked: false }` at once otherwise. The server drops the lock if this process dies.
   */
  withTryLock<T>(key: bigint, fn: () => Promise<T>): Promise<{ locked: true; value: T } | { locked: false }>;
  /**
   * Calls `onNotify` for every NOTIFY on `channel`, and with `null` after a lost connection was
   * re-established (notifications sent meanwhile are lost: the caller re-reads what it follows).
   */
  listen(channel: string, onNotify: (payload: string | null) => void): Promise<() => Promise<void>>;
  /**
   * The one `bytea` value `select` returns, as sent: read with `COPY ... (FORMAT binary)`, so
   * neither the server nor this process encodes or decodes it as text. Absent where the driver
   * cannot (PGlite): callers select it as base64 text instead.
   */
  readBytea?(select: string): Promise<Buffer | null>;
}

/** A `Db` over a node-postgres pool; `listen` uses its own connection, re-opened after a loss. */
export function poolDb(pool: pg.Pool, settings: PoolSettings, logger: Logger = silentLogger): Db {
  return {
    query: async <R extends object>(sql: string, params?: readonly unknown[]) => {
      try {
        return await pool.query<R & pg.QueryResultRow>(sql, params as unknown[]);
      } catch (err) {
        throw unavailable(err);
      }
    },
    transaction: (fn) => withTransaction(pool, (client) => fn(clientQueryable(client))),
    withTryLock: (key, fn) =>
      withClient(pool, async (client) => {
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [key.toString()]);
        if (!rows[0]?.ok) return { locked: false as const };
        try {
          return { locked: true as const, value: await fn() };
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [key.toString()]).catch(() => {});
        }
      }),
    listen: (channel, onNotify) => listenWithReconnect(settings, channel, onNotify, logger),
    readBytea: (select) =>
      withClient(pool, async (client) => {
        const data = await new Promise<Buffer>((resolve, reject) => {
          client.query(new CopyOut(`COPY (${select}) TO STDOUT (FORMAT binary)`, resolve, reject) as never);
        }).catch((err: unknown) => {
          throw unavailable(err);
        });
        return firstBytea(data);
      }),
  };
}

/**
 * A `COPY ... TO STDOUT` run on a node-postgres client (which has no COPY API of its own): the
 * client hands such an object the protocol messages; the data arrives in CopyData messages,
 * copied out as they come (the parser reuses its buffer).
 */
class CopyOut {
  private readonly chunks: Buffer[] = [];
  private failure: Error | null = null;
  private settled = false;
  constructor(
    readonly text: string,
    private readonly resolve: (data: Buffer) => void,
    private readonly reject: (err: Error) => void,
  ) {}
  submit(connection: { query(text: string): void }): void {
    connection.query(this.text);
  }
  handleCopyData(msg: { chunk: Buffer }): void {
    this.chunks.push(Buffer.from(msg.chunk));
  }
  handleError(err: Error): void {
    this.failure ??= err;
    // A lost connection sends no ReadyForQuery: settle now.
    this.settle();
  }
  handleReadyForQuery(): void {
    this.settle();
  }
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.failure) this.reject(this.failure);
    else this.resolve(Buffer.concat(this.chunks));
  }
}

/**
 * The first column of the first row of PostgreSQL's binary COPY format: an 11-byte signature,
 * flags and a header extension, then per row a field count and per field a length (-1: null).
 */
function firstBytea(data: Buffer): Buffer | null {
  if (data.length < 19 || data.toString('latin1', 0, 11) !== 'PGCOPY\n\xff\r\n\0') throw new Error('Not a binary COPY result.');
  let at = 19 + data.readUInt32BE(15);
  const fields = data.readInt16BE(at);
  if (fields === -1) return null;
  at += 2;
  const len = data.readInt32BE(at);
  if (len < 0) return null;
  return data.subarray(at + 4, at + 4 + len);
}

function clientQueryable(client: pg.PoolClient): Queryable {
  return {
    query: async <R extends object>(sql: string, params?: readonly unknown[]) =>
      client.query<R & pg.QueryResultRow>(sql, params as unknown[]),
  };
}

/**
 * The longest pause between attempts to re-open a lost LISTEN connection. Notifications sent
 * while it is away are lost, so a replica serves a stale generation until it is back: after a
 * restart of any length that staleness must end within seconds, and one connection attempt per
 * replica every 2 s costs the server nothing.
 */
const LISTEN_RETRY_MAX_MS = 2000;

/** LISTEN on a dedicated connection; when it drops (server restart), reconnect with backoff. */
async function listenWithReconnect(
  settings: PoolSettings,
  channel: string,
  onNotify: (payload: string | null) => void,
  logger: Logger,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  const lost = (c: pg.Client, why: string): void => {
    if (client !== c) return;
    client = null;
    logger.warn('db.listen_lost', { channel, error: why });
    c.end().catch(() => {});
    reconnect(500);
  };
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: settings.url, connectionTimeoutMillis: settings.connectTimeoutMs });
    c.on('notification', (n) => {
      if (n.channel === channel) onNotify(n.payload ?? '');
    });
    c.on('error', (err) => lost(c, err.message));
    c.on('end', () => lost(c, 'connection ended'));
    try {
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (err) {
      c.end().catch(() => {});
      throw err;
    }
    client = c;
  };
  const reconnect = (delay: number): void => {
    if (stopped || retry) return;
    retry = setTimeout(async () => {
      retry = null;
      if (stopped) return;
      try {
        await connect();
        logger.info('db.listen_restored', { channel });
        onNotify(null);
      } catch {
        reconnect(Math.min(delay * 2, LISTEN_RETRY_MAX_MS));
      }
    }, delay);
    retry.unref();
  };
  await connect();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    const c = client;
    client = null;
    await c?.end().catch(() => {});
  };
}
