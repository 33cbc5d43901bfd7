/**
 * The vector half of a generation: an hnswlib graph (`vectors.hnsw`) whose labels are the chunks'
 * SQLite rowids, and the float32 BLOB encoding of each chunk's vector in `meta.sqlite`.
 */
import type Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import hnswlib from 'hnswlib-node';
import { VECTORS_FILE } from './manifest.js';

const { HierarchicalNSW } = hnswlib;

/** Graph settings; they are recorded in the manifest. */
export interface HnswParams {
  m: number;
  efConstruction: number;
}

/** A vector to add under its chunk's label. */
export interface LabelledVector {
  label: number;
  vector: Float32Array;
}

/** Reads a float32 vector stored as a BLOB. */
export function bufferToVector(buf: Buffer): Float32Array {
  // Copy: SQLite's buffer may not be 4-byte aligned.
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Float32Array(copy.buffer);
}

/** The BLOB a vector is stored as (no copy). */
export function vectorToBuffer(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** The graph of a generation being written. */
export interface VectorWriter {
  markDelete(label: number): void;
  add(points: readonly LabelledVector[]): void;
  /** Replaces the graph with a compact one built from every vector stored in `db`. */
  rebuildFrom(db: Database.Database): void;
  write(): void;
}

/** Opens the graph in `dir` for writing: the copied previous graph when `reuse`, else an empty one. */
export function openVectorWriter(dir: string, dimension: number, params: HnswParams, reuse: boolean): VectorWriter {
  const file = path.join(dir, VECTORS_FILE);
  const fresh = (maxElements: number) => {
    const graph = new HierarchicalNSW('ip', dimension);
    graph.initIndex({ maxElements, m: params.m, efConstruction: params.efConstruction, randomSeed: 100 });
    return graph;
  };
  let index: InstanceType<typeof HierarchicalNSW>;
  if (reuse && fs.existsSync(file)) {
    index = new HierarchicalNSW('ip', dimension);
    index.readIndexSync(file);
  } else {
    index = fresh(1024);
  }
  const addAll = (points: readonly LabelledVector[]) => {
    const need = index.getCurrentCount() + points.length;
    if (need > index.getMaxElements()) index.resizeIndex(Math.max(need, Math.ceil(index.getMaxElements() * 1.5)));
    for (const p of points) index.addPoint(Array.from(p.vector), p.label);
  };
  return {
    markDelete: (label) => {
      try {
        index.markDelete(label);
      } catch {
        // A chunk written without a vector has no point to delete.
      }
    },
    add: addAll,
    rebuildFrom: (db) => {
      const rows = db.prepare('SELECT rowid, vector FROM chunks WHERE vector IS NOT NULL').all() as { rowid: number; vector: Buffer }[];
      index = fresh(Math.max(1024, rows.length));
      addAll(rows.map((r) => ({ label: r.rowid, vector: bufferToVector(r.vector) })));
    },
    write: () => index.writeIndexSync(file),
  };
}
