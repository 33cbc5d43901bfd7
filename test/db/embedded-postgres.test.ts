import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import ts from 'typescript';
import { copyServerFiles, packageServerFiles, startEmbeddedPostgres } from '../support/embedded-postgres.js';

const asRoot = process.getuid?.() === 0;
const HARNESS = pathToFileURL(fileURLToPath(new URL('../support/embedded-postgres.ts', import.meta.url))).href;
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

// The harness the global setup uses when TEST_DATABASE_URL is unset. As root on a machine
// without a `postgres` user (a plain container), the server must run as an unprivileged user
// that exists everywhere, and nothing may outlive the run.
describe('embedded PostgreSQL harness', () => {
  let top: string;
  beforeAll(() => {
    top = fs.mkdtempSync(path.join(os.tmpdir(), 'newsdesk-pgh-test-'));
    // Our own folder: the server's user must be able to pass through it to its own folder.
    fs.chmodSync(top, 0o755);
  });
  afterAll(() => fs.rmSync(top, { recursive: true, force: true }));
  /** A fresh folder of ours inside `top`, given to `nobody` when asked. */
  // As root only: switching users needs it (CI runs as root). Run as another user, the global
  // setup itself takes the path without switching.
  beforeEach((ctx) => {
    if (!asRoot)
      ctx.skip('switching the server to another user needs root (run as another user, the global setup runs the server as that user)');
  });
  const folder = (name: string, forNobody = false): string => {
    const dir = path.join(top, name);
    fs.mkdirSync(dir, { mode: 0o755 });
    if (forNobody) fs.chownSync(dir, passwdUid('nobody'), passwdGid('nobody'));
    return dir;
  };

  it('runs the server as nobody when asked, then stops it leaving no process and no folder', async () => {
    const dir = folder('direct');
    const server = await startEmbeddedPostgres({ runAs: 'nobody', parentDir: dir });
    onTestFinished(() => server.stop());
    expect(server.user).toBe('nobody');
    expect(path.dirname(server.dir)).toBe(dir);
    const { postmaster, answer } = await serverProcess(server.url);
    expect(answer).toBe(42);
    const status = procStatus(postmaster);
    expect(status.Uid?.split(/\s+/)[0]).toBe(String(passwdUid('nobody')));
    // Root's groups must not come along to the server.
    expect(status.Groups ?? '').toBe('');
    const child = parentPid(postmaster);

    await server.stop();
    expect(running(postmaster)).toBe(false);
    expect(running(child)).toBe(false);
    expect(fs.existsSync(server.dir)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([]);
    await expect(serverProcess(server.url)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('stops the server when the process that started it is killed', async () => {
    const dir = folder('killed');
    const script = `import { startEmbeddedPostgres } from ${JSON.stringify(HARNESS)};
      const s = await startEmbeddedPostgres({ runAs: 'nobody', parentDir: ${JSON.stringify(dir)} });
      console.log(JSON.stringify({ url: s.url, dir: s.dir }));
      setInterval(() => {}, 60_000);`;
    const starter = spawn(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], {
      // tsx caches in the temp folder: keep that in ours.
      env: { ...process.env, TMPDIR: folder('killed-tmp') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // On failure nothing stays behind either: killing the starter stops its server.
    onTestFinished(() => void starter.kill('SIGKILL'));
    const started = await firstLine(starter.stdout);
    const { url, dir: serverDir } = JSON.parse(started) as { url: string; dir: string };
    const { postmaster } = await serverProcess(url);
    const child = parentPid(postmaster);
    expect(parentPid(child)).toBe(starter.pid);

    const killed = new Promise((resolve) => starter.once('exit', resolve));
    starter.kill('SIGKILL');
    await killed;
    // The child sees its stdin close, stops the server and exits; bounded wait, not a timing target.
    for (let i = 0; i < 300 && (running(postmaster) || running(child)); i++) await new Promise((r) => setTimeout(r, 100));
    expect(running(postmaster)).toBe(false);
    expect(running(child)).toBe(false);
    // The server's data went with it; the emptied folder is left to its (dead) owner, inside ours.
    expect(fs.existsSync(path.join(serverDir, 'server', 'data'))).toBe(false);
  });

  // The starter runs as nobody, who may not read this checkout (a clone under /root is mode
  // 700): it gets its own copies, the harness transpiled to JavaScript (it needs only Node's
  // own modules) and the server's files, in a folder of its own.
  it('started by a user other than root, runs the server as that user and switches to no one', async () => {
    const nobody = passwdUid('nobody');
    const dir = folder('as-nobody', true);
    const code = folder('as-nobody-code');
    for (const name of ['embedded-postgres', 'embedded-postgres-child']) {
      const source = fs.readFileSync(fileURLToPath(new URL(`../support/${name}.ts`, import.meta.url)), 'utf8');
      const js = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      fs.writeFileSync(path.join(code, `${name}.mjs`), js);
    }
    const files = copyServerFiles(await packageServerFiles(), path.join(code, 'pgsql'));
    const harness = pathToFileURL(path.join(code, 'embedded-postgres.mjs')).href;
    const script = `import { startEmbeddedPostgres } from ${JSON.stringify(harness)};
      const options = { parentDir: ${JSON.stringify(dir)}, serverFiles: ${JSON.stringify(files)} };
      const refused = await startEmbeddedPostgres({ ...options, runAs: 'postgres' }).then(() => '', (e) => e.message);
      const s = await startEmbeddedPostgres(options);
      console.log(JSON.stringify({ url: s.url, user: s.user, refused }));
      process.stdin.once('data', async () => { await s.stop(); process.exit(0); });`;
    const starter = spawn(process.execPath, ['--input-type=module', '-e', script], {
      uid: nobody,
      gid: passwdGid('nobody'),
      cwd: dir,
      env: { ...process.env, TMPDIR: dir },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    onTestFinished(() => void starter.kill('SIGKILL'));
    const { url, user, refused } = JSON.parse(await firstLine(starter.stdout)) as { url: string; user: string; refused: string };
    expect(refused).toMatch(/"postgres" needs root/);
    expect(user).toBe('nobody');
    const { postmaster, answer } = await serverProcess(url);
    expect(answer).toBe(42);
    expect(procStatus(postmaster).Uid?.split(/\s+/)[0]).toBe(String(nobody));
    const exited = new Promise((resolve) => starter.once('exit', resolve));
    starter.stdin.write('stop\n');
    expect(await exited).toBe(0);
    expect(running(postmaster)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('newsdesk-pg-'))).toEqual([]);
  });
});

/** Connects, runs a query, and finds the server's main process (the parent of our backend). */
async function serverProcess(url: string): Promise<{ postmaster: number; answer: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT 40 + 2 AS answer, pg_backend_pid() AS pid');
    return { postmaster: parentPid(rows[0].pid), answer: rows[0].answer };
  } finally {
    await client.end();
  }
}

function procStatus(pid: number): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return fields;
}

function parentPid(pid: number): number {
  return Number(procStatus(pid).PPid);
}

/** True while the process exists and has not exited (a zombie waiting to be reaped has). */
function running(pid: number): boolean {
  try {
    return !procStatus(pid).State?.startsWith('Z');
  } catch {
    return false;
  }
}

function passwdUid(name: string): number {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  return Number(line?.split(':')[2]);
}

function passwdGid(name: string): number {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  return Number(line?.split(':')[3]);
}

function firstLine(stream: NodeJS.ReadableStream | null): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    stream?.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      if (buf.includes('\n')) resolve(buf.slice(0, buf.indexOf('\n')));
    });
    stream?.on('end', () => reject(new Error(`no line before end of output: ${buf}`)));
  });
}
