/**
 * The vector half of a generation: an hnswlib graph (`vectors.hnsw`) whose labels are the chunks'
 * SQLite rowids, and the float32 BLOB encoding of each chunk's vector in `meta.sqlite`.
 */
import type Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import hnswlib from 'hnswlib-node';
import { VECTORS_DELTA_FILE, VECTORS_FILE } from './manifest.js';

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

type Graph = InstanceType<typeof HierarchicalNSW>;

/** One recorded change of a graph: a point marked deleted, or one added. */
type VectorOp = { label: number; vector: Float32Array | null };

const DELTA_MAGIC = 'HNSWDLT1';

/**
 * The changes recorded in a `vectors.delta` file, in the order they were made: 8 bytes of magic,
 * the dimension (uint32 LE), then per change a kind byte (0 delete, 1 add), the label (uint32 LE)
 * and, for an add, the vector (float32 LE).
 */
export function readVectorDelta(file: string, dimension: number): VectorOp[] {
  const buf = fs.readFileSync(file);
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== DELTA_MAGIC) throw new Error(`${path.basename(file)} is not a graph delta`);
  if (buf.readUInt32LE(8) !== dimension) throw new Error(`${path.basename(file)} holds vectors of another dimension`);
  const ops: VectorOp[] = [];
  let at = 12;
  while (at < buf.length) {
    const kind = buf[at];
    const label = buf.readUInt32LE(at + 1);
    at += 5;
    if (kind === 0) {
      ops.push({ label, vector: null });
    } else if (kind === 1 && at + dimension * 4 <= buf.length) {
      const copy = new Uint8Array(dimension * 4);
      copy.set(buf.subarray(at, at + dimension * 4));
      ops.push({ label, vector: new Float32Array(copy.buffer) });
      at += dimension * 4;
    } else {
      throw new Error(`${path.basename(file)} is truncated or damaged`);
    }
  }
  return ops;
}

function encodeVectorDelta(ops: readonly VectorOp[], dimension: number): Buffer {
  const size = 12 + ops.reduce((s, o) => s + 5 + (o.vector ? dimension * 4 : 0), 0);
  const buf = Buffer.alloc(size);
  buf.write(DELTA_MAGIC, 0, 'latin1');
  buf.writeUInt32LE(dimension, 8);
  let at = 12;
  for (const o of ops) {
    buf[at] = o.vector ? 1 : 0;
    buf.writeUInt32LE(o.label, at + 1);
    at += 5;
    if (o.vector) {
      Buffer.from(o.vector.buffer, o.vector.byteOffset, o.vector.byteLength).copy(buf, at);
      at += dimension * 4;
    }
  }
  return buf;
}

/** Replays recorded changes on a loaded graph, in order, as the writer made them. */
export function applyVectorOps(graph: Graph, ops: readonly VectorOp[]): void {
  const adds = ops.filter((o) => o.vector).length;
  const need = graph.getCurrentCount() + adds;
  if (need > graph.getMaxElements()) graph.resizeIndex(need);
  for (const o of ops) {
    if (o.vector) graph.addPoint(Array.from(o.vector), o.label);
    else {
      try {
        graph.markDelete(o.label);
      } catch {
        // A chunk written without a vector has no point to delete.
      }
    }
  }
}

/** Points added in the changes. */
export function addedPoints(ops: readonly VectorOp[]): number {
  return ops.reduce((n, o) => n + (o.vector ? 1 : 0), 0);
}

/**
 * The graph of a generation written as changes beside its base's graph (a replica-local copy,
 * see GenerationWriteOptions.vectorDelta): `vectors.hnsw` in `dir` is the base's file, linked, not
 * copied, and never written to; the base's changes (its `vectors.delta`, when it has one) and this
 * generation's go to a new `vectors.delta`, which the reader replays after loading the graph. Past
 * `maxAdded` added points, the graph is loaded, the changes applied and a whole new graph written.
 */
export function openDeltaVectorWriter(dir: string, dimension: number, maxAdded: number): VectorWriter {
  const graphFile = path.join(dir, VECTORS_FILE);
  const deltaFile = path.join(dir, VECTORS_DELTA_FILE);
  const ops: VectorOp[] = fs.existsSync(deltaFile) ? readVectorDelta(deltaFile, dimension) : [];
  return {
    markDelete: (label) => ops.push({ label, vector: null }),
    add: (points) => {
      for (const p of points) ops.push({ label: p.label, vector: p.vector });
    },
    rebuildFrom: () => {
      throw new Error('A graph kept as changes is never compacted (its vectors are not stored).');
    },
    write: () => {
      // Both files are replaced, never written through: the graph file is shared with the base.
      fs.rmSync(deltaFile, { force: true });
      if (addedPoints(ops) <= maxAdded) {
        if (ops.length > 0) fs.writeFileSync(deltaFile, encodeVectorDelta(ops, dimension));
        return;
      }
      const graph = new HierarchicalNSW('ip', dimension);
      graph.readIndexSync(graphFile);
      applyVectorOps(graph, ops);
      fs.rmSync(graphFile, { force: true });
      graph.writeIndexSync(graphFile);
    },
  };
}
