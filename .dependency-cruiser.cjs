/**
 * The layering of my2pg, checked in CI (`npm run check:deps`).
 *   workers/ → jobs/ → src/
 *   inside src/: front ends → orchestration → engine → vocabulary and state → dialects → core
 * A folder may import its own layer or any layer below it, never one above; there are no cycles.
 * The one composition root, src/cli/main.ts, may start workers/ (the `run` command works in-process).
 * test/ is cruised too: nothing imports it, and unit tests import no helper that needs the services.
 */
const LAYERS = [
  ['core'],
  ['dialect'],
  ['vocabulary', 'state'],
  ['schema', 'copy', 'verify', 'finalize'],
  ['config', 'run', 'queue', 'follow'],
  ['cli', 'board', 'demo'],
];
const above = (rank) => LAYERS.slice(rank + 1).flat();

const layerRules = LAYERS.flatMap((folders, rank) =>
  rank === LAYERS.length - 1
    ? []
    : [
        {
          name: `layer-${folders.join('-')}`,
          comment: `src/{${folders.join(',')}} must not import the layers above it (${above(rank).join(', ')})`,
          severity: 'error',
          from: { path: `^src/(${folders.join('|')})/` },
          to: { path: `^src/(${above(rank).join('|')})/` },
        },
      ],
);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no import cycle, at any length',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'src-not-to-jobs-or-workers',
      comment: 'src/ never imports jobs/ or workers/; only the CLI entry composes the worker pool',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/main\\.ts$' },
      to: { path: '^(jobs|workers)/' },
    },
    { name: 'jobs-not-to-workers', severity: 'error', from: { path: '^jobs/' }, to: { path: '^workers/' } },
    {
      name: 'verify-independent-of-copy',
      comment: 'verification proves the copy, so it shares vocabulary with it, never its code',
      severity: 'error',
      from: { path: '^src/verify/' },
      to: { path: '^src/copy/' },
    },
    {
      name: 'copy-independent-of-verify',
      severity: 'error',
      from: { path: '^src/copy/' },
      to: { path: '^src/verify/' },
    },
    {
      name: 'bullmq-only-in-queue-jobs-workers',
      comment: "BullMQ's error and job types belong to the job boundary",
      severity: 'error',
      from: { path: '^src/(core|dialect|vocabulary|state|schema|copy|verify|finalize)/' },
      to: { path: 'node_modules/bullmq/' },
    },
    {
      name: 'nothing-imports-tests',
      comment: 'the program never depends on its tests',
      severity: 'error',
      from: { path: '^(src|jobs|workers)/' },
      to: { path: '^test/' },
    },
    {
      name: 'unit-tests-without-services',
      comment:
        'test/unit runs with MySQL, PostgreSQL and Redis stopped: a test that needs a sandbox belongs in test/integration',
      severity: 'error',
      from: { path: '^test/unit/' },
      to: { path: '^test/(integration/|helpers/(sandbox|services|global-setup|faults|compare|canonical)\\.ts$)' },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
