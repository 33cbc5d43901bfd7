/**
 * A PostgreSQL server with pgvector for the bench, when the machine's server has none: PGlite
 * (PostgreSQL compiled to WebAssembly, with its bundled `vector` extension) served over the wire
 * protocol by pglite-socket, in a process of its own so its CPU is not the bench's. Development
 * dependencies only; the app never loads this file.
 *
 * Run as a child: it replies once with `{ port }` after listening on 127.0.0.1 and keeps serving
 * until killed.
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

async function main(): Promise<void> {
  const dataDir = process.env.PGLITE_DATA_DIR;
  const db = await PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { vector } });
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 100 });
  await server.start();
  const port = Number(server.getServerConn().split(':').pop());
  process.send?.({ ok: true, result: { port } });
  const stop = () => {
    void server
      .stop()
      .then(() => db.close())
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
}

main().catch((err: unknown) => {
  process.send?.({ ok: false, error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
