/**
 * Reindex jobs shared by replicas (PostgreSQL mode): at most one row is 'running' (a unique
 * partial index), so two admins starting /reindex on two replicas at once get one run: the
 * replica that inserted the row runs it, the other is told who started it and when, and posts
 * the same report when it ends. The runner beats a heartbeat; a 'running' row whose heartbeat
 * stopped (its process was killed) is marked failed by the next claim or waiter, so a dead
 * replica never blocks reindexing. The index writer's advisory lock still guards the write itself.
 */
import type pg from 'pg';
import { unavailable } from './pool.js';

/** Migration 21. */
export const REINDEX_JOBS_SQL = `
CREATE TABLE reindex_jobs (
  id bigserial PRIMARY KEY,
  full_rebuild boolean NOT NULL,
  state text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
  started_by text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  outcome text,
  report text
);
CREATE UNIQUE INDEX reindex_jobs_one_running ON reindex_jobs ((true)) WHERE state = 'running';
`;

/** One reindex job as stored. */
export interface ReindexJob {
  id: number;
  full: boolean;
  state: 'running' | 'done' | 'failed';
  /** Who started it (an admin's name and id, or a command). */
  startedBy: string;
  /** ms since epoch. */
  startedAt: number;
  /** One line: how it ended. */
  outcome: string | null;
  /** The summary the runner posted (HTML), for the others to post too. */
  report: string | null;
}

/** A job this process started: finish it exactly once. */
export interface OwnJob {
  job: ReindexJob;
  finish(state: 'done' | 'failed', outcome: string, report: string | null): Promise<void>;
}

/** Timings; tests shorten them. */
export interface ReindexJobTiming {
  /** How often the runner marks itself alive. */
  heartbeatMs: number;
  /** A running job without a heartbeat for this long is taken as dead. */
  staleMs: number;
  /** How often a waiter checks the job. */
  pollMs: number;
}

const DEFAULT_TIMING: ReindexJobTiming = { heartbeatMs: 5_000, staleMs: 30_000, pollMs: 1_000 };

/** What a dead runner's job says. */
export const ABANDONED = 'stopped without finishing (its process ended); start it again with /reindex';

interface JobRow {
  id: string;
  full_rebuild: boolean;
  state: ReindexJob['state'];
  started_by: string;
  started_ms: string;
  outcome: string | null;
  report: string | null;
}

const COLUMNS = 'id, full_rebuild, state, started_by, (extract(epoch FROM started_at) * 1000)::bigint AS started_ms, outcome, report';

function jobOf(r: JobRow): ReindexJob {
  return {
    id: Number(r.id),
    full: r.full_rebuild,
    state: r.state,
    startedBy: r.started_by,
    startedAt: Number(r.started_ms),
    outcome: r.outcome,
    report: r.report,
  };
}

/** The reindex jobs table over a pool. */
export class ReindexJobs {
  private readonly timing: ReindexJobTiming;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    timing: Partial<ReindexJobTiming> = {},
  ) {
    this.timing = { ...DEFAULT_TIMING, ...timing };
  }

  private async rows(sql: string, params: unknown[] = []): Promise<JobRow[]> {
    try {
      return (await this.pool.query<JobRow>(sql, params)).rows;
    } catch (err) {
      throw unavailable(err);
    }
  }

  /**
   * Starts a job unless one is running anywhere: `{ own }` with the job to run and finish, or
   * `{ running }` with the job someone else runs.
   */
  async claim(full: boolean, startedBy: string): Promise<{ own: OwnJob } | { running: ReindexJob }> {
    for (let attempt = 0; ; attempt++) {
      await this.expireStale();
      const [mine] = await this.rows(
        `INSERT INTO reindex_jobs (full_rebuild, started_by) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
        [full, startedBy],
      );
      if (mine) return { own: this.own(jobOf(mine)) };
      const running = await this.running();
      if (running) return { running };
      // It finished between the insert and the look: try again (a handful of times at most).
      if (attempt >= 5) throw new Error('Could not start or find a reindex job.');
    }
  }

  /** The running job, or null. */
  async running(): Promise<ReindexJob | null> {
    const [row] = await this.rows(`SELECT ${COLUMNS} FROM reindex_jobs WHERE state = 'running'`);
    return row ? jobOf(row) : null;
  }

  /** The job's current row. */
  async get(id: number): Promise<ReindexJob | null> {
    const [row] = await this.rows(`SELECT ${COLUMNS} FROM reindex_jobs WHERE id = $1`, [id]);
    return row ? jobOf(row) : null;
  }

  /** Waits until the job is no longer running (or its runner is found dead); null when closed first. */
  async waitFor(id: number): Promise<ReindexJob | null> {
    while (!this.closed) {
      await this.expireStale();
      const job = await this.get(id);
      if (job?.state !== 'running') return job;
      await new Promise((resolve) => setTimeout(resolve, this.timing.pollMs).unref());
    }
    return null;
  }

  /** Stops waiters (shutdown). */
  close(): void {
    this.closed = true;
  }

  /** Marks running jobs whose runner stopped beating as failed. */
  private async expireStale(): Promise<void> {
    await this.rows(
      `UPDATE reindex_jobs SET state = 'failed', finished_at = now(), outcome = $2
       WHERE state = 'running' AND heartbeat_at < now() - make_interval(secs => $1)`,
      [this.timing.staleMs / 1000, ABANDONED],
    );
  }

  private own(job: ReindexJob): OwnJob {
    const beat = setInterval(() => {
      this.pool.query('UPDATE reindex_jobs SET heartbeat_at = now() WHERE id = $1', [job.id]).catch(() => {});
    }, this.timing.heartbeatMs);
    beat.unref();
    let finished = false;
    return {
      job,
      finish: async (state, outcome, report) => {
        if (finished) return;
        finished = true;
        clearInterval(beat);
        await this.rows(
          `UPDATE reindex_jobs SET state = $2, outcome = $3, report = $4, finished_at = now() WHERE id = $1 AND state = 'running'`,
          [job.id, state, outcome, report],
        );
      },
    };
  }
}
