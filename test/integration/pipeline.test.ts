import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copyJobId,
  finalizeJobId,
  tableJobIds,
  type CopyTablePayload,
  type CopyTableResult,
} from '../../src/queue/contract.js';
import type { FinalizeSummary } from '../../src/finalize/finalize-run.js';
import { queueNamesOf } from '../helpers/faults.js';
import { sandboxBackend } from '../helpers/queue.js';
import { createSeedSandbox, type Sandbox } from '../helpers/sandbox.js';

// The per-table pipeline: each copy job verifies its table (or key range) and rebuilds its
// table's indexes as soon as its copy commits; finalize only restores what is left and
// collects those results instead of reading every table again.
let sandbox: Sandbox;
const summary = (job: { returnvalue: unknown }): FinalizeSummary => job.returnvalue as FinalizeSummary;

describe('per-table pipeline', () => {
  beforeAll(async () => {
    sandbox = await createSeedSandbox('pipeline');
    const my = await sandbox.mysql();
    await my.query('ANALYZE TABLE game_visits');
    await my.end();
  });
  afterAll(async () => {
    await sandbox?.dispose();
  });

  it('copy jobs verify and index their part right after the commit; finalize uses their results', async () => {
    const result = await sandbox.cli(['run', '--range-rows', '100']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runId = /run (run-\S+): every table copied and verified/.exec(result.stdout)![1]!;

    const backend = sandboxBackend(sandbox);
    const names = await queueNamesOf(sandbox);
    const copy = backend.queue(names.copy);
    const finalize = backend.queue(names.finalize);
    try {
      const jobs = (await copy.getJobs(['completed'], 0, -1)).filter(
        (j) => (j.data as CopyTablePayload).runId === runId,
      );
      const fin = (await finalize.getJob(finalizeJobId(runId)))!;
      const ranges = jobs.filter((j) => (j.data as CopyTablePayload).table === 'game_visits');
      expect(ranges.length).toBeGreaterThan(2);
      const visits = { tableName: 'game_visits', jobId: copyJobId(runId, 'game_visits') };
      expect(ranges.map((j) => j.id).sort()).toEqual(tableJobIds(visits, { game_visits: ranges.length }).sort());
      for (const job of jobs) {
        const value = job.returnvalue as CopyTableResult;
        // Each part was verified by its own job, before finalize started.
        expect(value.verification, job.id).toMatchObject({ status: 'verified', method: 'checksum' });
        expect(value.verification!.sourceRows).toBe(value.rows);
        expect(Date.parse(value.verification!.at)).toBeLessThanOrEqual(fin.processedOn!);
      }
      // The range jobs' parts add up to the table.
      expect(ranges.reduce((n, j) => n + (j.returnvalue as CopyTableResult).verification!.sourceRows, 0)).toBe(375);
      // Whole tables got their indexes back in their own job; a split table's, in the job of
      // its last range to commit.
      const users = jobs.find((j) => j.id === copyJobId(runId, 'users'))!.returnvalue as CopyTableResult;
      expect(users.indexes!.length).toBeGreaterThan(0);
      expect(users.indexes!.every((i) => i.status === 'restored')).toBe(true);
      const rebuilt = ranges.filter((j) => (j.returnvalue as CopyTableResult).indexes!.length > 0);
      expect(rebuilt).toHaveLength(1);
      expect(
        (rebuilt[0]!.returnvalue as CopyTableResult).indexes!.every(
          (i) => i.table === 'game_visits' && i.status === 'restored',
        ),
      ).toBe(true);
      expect(
        summary(fin).constraints.filter(
          (c) => c.kind === 'index' && c.table === 'game_visits' && c.status !== 'restored',
        ),
      ).toEqual([]);

      expect(summary(fin).verified).toBe(true);
      expect(summary(fin).tables.find((t) => t.table === 'game_visits')).toMatchObject({
        status: 'verified',
        sourceRows: 375,
        targetRows: 375,
      });
      // The indexes rebuilt by jobs are in the run's summary too.
      expect(summary(fin).constraints.filter((c) => c.table === 'users' && c.kind === 'index').length).toBe(
        users.indexes!.length,
      );
    } finally {
      await backend.close();
    }

    // The indexes are there.
    const pgc = await sandbox.pg();
    try {
      const indexes = await pgc.query(
        `SELECT tablename, count(*)::int AS n FROM pg_indexes WHERE schemaname = 'public' GROUP BY 1 ORDER BY 1`,
      );
      expect(indexes.rows.find((r) => r.tablename === 'users')?.n).toBeGreaterThan(1);
    } finally {
      await pgc.end();
    }
  });

  it('a foreign key the data violates is reported by name; the others of the run are restored', async () => {
    const my = await sandbox.mysql();
    // Two orphans MySQL was told not to check: scores → users and friendships → users.
    await my.query('SET SESSION foreign_key_checks = 0');
    await my.query(
      `INSERT INTO scores (id, user_id, score, game_name, created_at) VALUES (9001, 424242, 1, 'x', '2024-01-01 00:00:00')`,
    );
    await my.query(
      `INSERT INTO friendships (id, requester_id, addressee_id, status, created_at) VALUES (9001, 1, 535353, 'PENDING', '2024-01-01 00:00:00')`,
    );
    await my.end();
    try {
      const result = await sandbox.cli(['run']);
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stdout).toMatch(/foreign key scores_user_id_fkey on scores: VALIDATE failed/);
      expect(result.stdout).toMatch(/foreign key friendships_addressee_id_fkey on friendships: VALIDATE failed/);
      const pgc = await sandbox.pg();
      try {
        const fks = await pgc.query(
          `SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace ORDER BY 1`,
        );
        const byName = Object.fromEntries(fks.rows.map((r) => [r.conname, r.convalidated]));
        // Violated ones stay NOT VALID (guarding new rows); the others are valid.
        expect(byName).toMatchObject({
          scores_user_id_fkey: false,
          friendships_addressee_id_fkey: false,
          friendships_requester_id_fkey: true,
          monthly_scores_user_id_fkey: true,
        });
      } finally {
        await pgc.end();
      }
    } finally {
      const fix = await sandbox.mysql();
      await fix.query('DELETE FROM scores WHERE id = 9001');
      await fix.query('DELETE FROM friendships WHERE id = 9001');
      await fix.end();
    }
  });
});
