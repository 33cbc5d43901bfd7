/**
 * The embedded article sources: each stored source is a file under `dir` (STATE_DIR/sources), at
 * the same relative path it would have in the articles folder, and `manifest.json` beside the files
 * records where each came from, who added it and when. The folder is not ARTICLES_DIR, so
 * replacing or syncing the articles folder never touches them. A file is written to a temporary
 * name, synced and renamed, so a crash leaves it complete or absent; the manifest is rewritten the
 * same way. A file the manifest does not know (written before a crash, or copied in by hand) is
 * still a source, recorded as a chat addition.
 */
import fs from 'node:fs';
import path from 'node:path';
import { articleId } from '../articles/index.js';
import { UserError } from '../util/errors.js';
import { isProcessAlive } from '../util/process.js';
import { type ArticleSources, freePath, type PublishStep, type SourceMeta, type StoredSource } from './sources.js';

const MANIFEST = 'manifest.json';

interface ManifestEntry extends SourceMeta {
  addedAt: number;
}

/** Stored sources in a folder of their own. */
export class FileSources implements ArticleSources {
  constructor(private readonly dir: string) {}

  async list(): Promise<StoredSource[]> {
    this.removeAbandoned();
    const manifest = this.readManifest();
    const out: StoredSource[] = [];
    for (const rel of this.files()) {
      const entry = manifest[rel];
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(path.join(this.dir, rel));
      } catch {
        continue;
      }
      out.push({ path: rel, origin: entry?.origin ?? 'chat', addedBy: entry?.addedBy ?? null, addedAt: entry?.addedAt ?? 0, bytes });
    }
    return out.sort((a, b) => a.addedAt - b.addedAt || a.path.localeCompare(b.path));
  }

  async add(name: string, folder: string, bytes: Uint8Array, meta: SourceMeta, taken: (id: string) => boolean): Promise<string> {
    const ids = new Set(this.files().map((f) => articleId(f)));
    const rel = freePath(name, folder, (candidate, id) => ids.has(id) || taken(id) || fs.existsSync(path.join(this.dir, candidate)));
    const file = this.resolve(rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeAtomically(file, bytes);
    this.updateManifest((m) => {
      m[rel] = { ...meta, addedAt: Date.now() };
    });
    return rel;
  }

  async delete(sourcePath: string): Promise<void> {
    fs.rmSync(this.resolve(sourcePath), { force: true });
    this.updateManifest((m) => {
      delete m[sourcePath];
    });
  }

  deleteOnPublish(sourcePath: string): PublishStep {
    // The generation's rename is the publish; the file goes right after it. A crash in between
    // leaves the source, and the next sync indexes it again: nothing is lost, at worst it returns.
    return async () => this.delete(sourcePath);
  }

  location(sourcePath: string): string | null {
    return this.resolve(sourcePath);
  }

  /** Relative paths of every stored file (posix), sorted. */
  private files(): string[] {
    const out: string[] = [];
    walk(this.dir, '', (_abs, rel, e) => {
      if (!e.name.startsWith('.') && rel !== MANIFEST) out.push(rel);
    });
    return out.sort();
  }

  private readManifest(): Record<string, ManifestEntry> {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir, MANIFEST), 'utf8')) as Record<string, ManifestEntry>;
    } catch {
      return {};
    }
  }

  private updateManifest(change: (m: Record<string, ManifestEntry>) => void): void {
    const m = this.readManifest();
    change(m);
    fs.mkdirSync(this.dir, { recursive: true });
    writeAtomically(path.join(this.dir, MANIFEST), new TextEncoder().encode(JSON.stringify(m, null, 1)));
  }

  /** Deletes temporary files a killed process never renamed into place. */
  private removeAbandoned(): void {
    walk(this.dir, '', (abs, _rel, e) => {
      const m = /^\..+\.tmp-(\d+)$/.exec(e.name);
      if (m && !isProcessAlive(Number(m[1]))) fs.rmSync(abs, { force: true });
    });
  }

  private resolve(rel: string): string {
    const root = path.resolve(this.dir);
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep)) throw new UserError('Refusing to touch a file outside the sources folder.');
    return file;
  }
}

/** Calls `visit` for every file under `abs` (folders whose name starts with a dot are skipped); an unreadable folder has none. */
function walk(abs: string, rel: string, visit: (file: string, rel: string, entry: fs.Dirent) => void): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(abs, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const childRel = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory() && !e.name.startsWith('.')) walk(path.join(abs, e.name), childRel, visit);
    else if (e.isFile()) visit(path.join(abs, e.name), childRel, e);
  }
}

/** Writes `bytes` to `file` through a temporary name: complete or not at all. */
export function writeAtomically(file: string, bytes: Uint8Array): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
