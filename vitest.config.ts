import { defineConfig } from 'vitest/config';

/**
 * Two projects. `unit` is pure logic and touches no socket: it has no global set-up, so it runs
 * with MySQL, PostgreSQL and Redis stopped (`npm run test:unit`). Unit tests change no shared state
 * (no mock, no process.env, no working directory), so `test:unit` runs them with `--no-isolate`:
 * the files of a worker share one module cache, and my2pg's modules are imported once per worker
 * instead of once per file (about 40 s to under 10 s on two busy cores). The flag is on the
 * command line because vitest 3 ignores `isolate` in a project's own options. `integration` gets the services
 * from test/helpers/global-setup.ts and runs my2pg against them. `vitest run` runs both.
 */
export default defineConfig({
  test: {
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
