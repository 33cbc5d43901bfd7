/**
 * Article sources that did not come from the articles folder: what an admin sent in the chat
 * (`/add`, an upload) and what a feed brought. They are kept apart from ARTICLES_DIR, so a folder
 * sync (which adds, changes and removes only the folder's own articles) never deletes them, and in
 * PostgreSQL mode no replica's disk has to hold them. `ArticleSources` is the seam; `FileSources`
 * (file-sources.ts: a folder under STATE_DIR plus a manifest) is the embedded implementation and
 * `PgSources` (pg-sources.ts) the one replicas share. Both pass test/library/sources-contract.test.ts.
 */
import path from 'node:path';
import { articleId } from '../articles/index.js';
import type { PublishStep } from '../store/target.js';

export type { PublishStep } from '../store/target.js';

/** Where a stored article came from. */
export type SourceOrigin = 'chat' | 'feed';

/** Who stored a source, and how it arrived. */
export interface SourceMeta {
  origin: SourceOrigin;
  /** The admin's name and id, the feed's URL, or null. */
  addedBy: string | null;
}

/** One stored source: its path (its article id is derived from it, as for a folder file), metadata and original bytes. */
export interface StoredSource extends SourceMeta {
  path: string;
  /** ms since epoch. */
  addedAt: number;
  bytes: Uint8Array;
}

/** The stored sources, whichever database or folder holds them. */
export interface ArticleSources {
  /** Every stored source, oldest first. */
  list(): Promise<StoredSource[]>;
  /**
   * Stores `bytes` as `folder/name`, or the first free variant (`name-2.ext`, …) whose article id is
   * not taken here nor by `taken` (the folder's and the index's ids). Resolves to the stored path.
   */
  add(name: string, folder: string, bytes: Uint8Array, meta: SourceMeta, taken: (id: string) => boolean): Promise<string>;
  /** Deletes a source now (an add that was not indexed after all). */
  delete(sourcePath: string): Promise<void>;
  /** A step deleting the source as part of publishing the generation without it (`/remove`). */
  deleteOnPublish(sourcePath: string): PublishStep;
  /** A file a person can open for this stored path, or null (PostgreSQL keeps no file). */
  location(sourcePath: string): string | null;
}

/** The stored path for `name` in `folder`: the first candidate whose id nobody has. */
export function freePath(name: string, folder: string, isTaken: (candidatePath: string, id: string) => boolean): string {
  const ext = path.posix.extname(name);
  const base = name.slice(0, name.length - ext.length);
  for (let i = 1; ; i++) {
    const file = i === 1 ? name : `${base}-${i}${ext}`;
    const rel = folder ? path.posix.join(folder, file) : file;
    if (!isTaken(rel, articleId(rel))) return rel;
  }
}
