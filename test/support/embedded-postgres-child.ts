/**
 * Runs one throwaway PostgreSQL server, for test/support/embedded-postgres.ts, which spawns this
 * file as the same user it runs as. Uses only Node's own modules (see the harness).
 * Usage: node [--import tsx] embedded-postgres-child.ts <folder> <server files> <ids JSON or null>
 * <folder> is where the data folder goes (owned by the server's user); <server files> holds
 * PostgreSQL's bin/, lib/ and share/; <ids> `{"uid":…,"gid":…}` is the user initdb and the server
 * run as when this runs as root (PostgreSQL refuses root), else `null`.
 * Prints one JSON line, `{"url": ...}` once the server accepts connections, else exits non-zero
 * with the server's log on stderr. Stops the server and exits when its stdin closes: that is how
 * the parent stops it, and also what happens when the parent dies, however it dies, so no
 * postgres process outlives the run.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const [folder, files, idsJson] = process.argv.slice(2);
if (!folder || !files || !idsJson) {
  process.stderr.write('usage: embedded-postgres-child <folder> <server files> <ids JSON or null>\n');
  process.exit(2);
}
const ids = JSON.parse(idsJson) as { uid: number; gid: number } | null;
const dataDir = path.join(folder, 'data');
const password = randomBytes(12).toString('hex');
const logs: string[] = [];
const log = (m: string) => {
  logs.push(m);
  if (logs.length > 50) logs.shift();
};
// English messages: readiness is read from the server's log.
const env = { ...process.env, LC_MESSAGES: 'C', TMPDIR: folder };

let stopping = false;
/** initdb, then the server: what to stop. */
let current: ChildProcess | null = null;

// The parent holds the other end of stdin: end of input means "stop", whether it closed it or died.
process.stdin.on('close', () => void shutdown(0));
process.stdin.on('end', () => void shutdown(0));
process.stdin.resume();
process.on('SIGTERM', () => void shutdown(0));

try {
  await initdb();
  const port = await freePort();
  if (!stopping) await startServer(port);
  if (!stopping) process.stdout.write(`${JSON.stringify({ url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres` })}\n`);
} catch (err) {
  process.stderr.write(`embedded PostgreSQL did not start: ${(err as Error | undefined)?.message ?? ''}\n${logs.join('')}\n`);
  await shutdown(1);
}

async function initdb(): Promise<void> {
  const pwfile = path.join(folder as string, 'pwfile');
  fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (ids) fs.chownSync(pwfile, ids.uid, ids.gid);
  const args = [
    `--pgdata=${dataDir}`,
    '--auth=scram-sha-256',
    '--username=postgres',
    `--pwfile=${pwfile}`,
    '--encoding=UTF8',
    `--locale=${utf8Locale()}`,
    '--lc-messages=C',
    // A throwaway server: durability costs time and buys nothing.
    '--no-sync',
  ];
  try {
    await new Promise<void>((resolve, reject) => {
      const p = spawn(path.join(files as string, 'bin', 'initdb'), args, {
        ...(ids ?? {}),
        cwd: folder,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      current = p;
      p.stdout?.on('data', (c: Buffer) => log(c.toString('utf8')));
      p.stderr?.on('data', (c: Buffer) => log(c.toString('utf8')));
      p.once('error', reject);
      p.once('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`initdb failed (code ${code}, signal ${signal})`))));
    });
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

function startServer(port: number): Promise<void> {
  // No Unix socket, so nothing is written outside our folder; durability off, as above.
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  args.push('-c', 'fsync=off', '-c', 'max_connections=200');
  return new Promise((resolve, reject) => {
    const p = spawn(path.join(files as string, 'bin', 'postgres'), args, {
      ...(ids ?? {}),
      cwd: folder,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    current = p;
    p.stderr?.on('data', (c: Buffer) => {
      const m = c.toString('utf8');
      log(m);
      if (m.includes('database system is ready to accept connections')) resolve();
    });
    p.once('error', reject);
    p.once('exit', (code, signal) => {
      reject(new Error(`the server exited (code ${code}, signal ${signal})`));
    });
  });
}

/** C.UTF-8 where the system has it (as most do), else C; both sort the same on every machine. */
function utf8Locale(): string {
  try {
    const have = execFileSync('locale', ['-a'], { encoding: 'utf8' }).split('\n');
    return have.find((l) => /^C\.utf-?8$/i.test(l.trim()))?.trim() ?? 'C';
  } catch {
    return 'C';
  }
}

async function shutdown(code: number): Promise<void> {
  if (stopping && code === 0) return;
  stopping = true;
  const p = current;
  if (p && p.exitCode === null && p.signalCode === null) {
    // Fast shutdown; bounded, then killed.
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGINT');
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
  // The data folder is ours, inside our folder (a failed initdb can leave part of one).
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
