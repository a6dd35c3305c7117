import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/sandbox.js';

const RECORDER = fileURLToPath(new URL('../helpers/record-imports.mjs', import.meta.url));
const HEAVY = ['typeorm', 'bullmq', '@bull-board', 'express', 'mysql2', 'pg', 'ioredis', 'pino'];

/** The packages a `my2pg` command line loads. */
function packagesLoaded(args: string[]): Set<string> {
  const result = spawnSync(process.execPath, ['--import', RECORDER, BIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  expect(result.status, result.stderr).toBeLessThanOrEqual(2);
  const packages = new Set<string>();
  for (const match of result.stderr.matchAll(/^imported .*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//gm))
    packages.add(match[1]!);
  return packages;
}

describe('start-up', () => {
  it.each([['--help'], ['run', '--help'], ['worker', '--help'], ['--version'], ['no-such-command']])(
    '`my2pg %s` loads no database, queue or web package',
    (...args) => {
      const loaded = packagesLoaded(args);
      expect(loaded.has('commander'), [...loaded].join(', ')).toBe(true);
      expect(HEAVY.filter((name) => [...loaded].some((p) => p === name || p.startsWith(`${name}/`)))).toEqual([]);
    },
  );

  it('a command that talks to the databases does load them (the recorder sees them)', () => {
    // No URLs in the environment: `status` stops at the configuration (exit 2), after loading its command.
    expect(packagesLoaded(['status']).has('typeorm')).toBe(true);
  });
});
