/**
 * The layering of my2pg, checked in CI (`npm run check:deps`).
 *   workers/ → jobs/ → src/
 *   inside src/: front ends → orchestration → engine → vocabulary and state → dialects → core
 * A folder may import any layer below its own, never one above; inside its own layer only the
 * folders SAME_LAYER declares for it. The declared imports form no cycle (checked when this file
 * loads), so no cycle between folders can appear. The one composition root, src/cli/main.ts, may
 * start workers/ (the `run` command works in-process).
 * test/ is cruised too: nothing imports it, and unit tests import no helper that needs the services.
 */
const LAYERS = [
  ['core'],
  ['dialect'],
  ['vocabulary', 'state'],
  ['schema', 'copy', 'verify', 'finalize'],
  ['config', 'run', 'queue', 'follow', 'fallback'],
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

/** Which folder may import which folder of its own layer: what the code does, declared. */
const SAME_LAYER = {
  state: ['vocabulary'],
  copy: ['schema'],
  verify: ['schema'],
  finalize: ['schema', 'verify'],
  run: ['config', 'queue', 'follow', 'fallback'],
  queue: ['config'],
  follow: ['queue', 'fallback'],
  fallback: ['queue'],
  cli: ['board', 'demo'],
};

/**
 * Imports against SAME_LAYER that the code still makes, each closing a cycle between folders: the
 * file and the files it may import beyond its folder's rule; no other file may join them. Empty:
 * the last three went (the follower's progress type into the queue contract, the run's
 * cancellation watch into state/, the board command into cli/). Keep it that way.
 */
const KNOWN_CYCLES = {};

// SAME_LAYER must stay acyclic: a cycle there is a cycle between folders the rules would allow.
(function assertAcyclic() {
  const state = new Map();
  const visit = (folder, path) => {
    if (state.get(folder) === 'done') return;
    if (state.get(folder) === 'open')
      throw new Error(`.dependency-cruiser.cjs: SAME_LAYER has a cycle: ${[...path, folder].join(' → ')}`);
    state.set(folder, 'open');
    for (const next of SAME_LAYER[folder] ?? []) visit(next, [...path, folder]);
    state.set(folder, 'done');
  };
  for (const folder of Object.keys(SAME_LAYER)) visit(folder, []);
})();

const exactly = (path) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const sameLayerRules = LAYERS.flatMap((folders) =>
  folders.flatMap((folder) => {
    const undeclared = folders.filter((f) => f !== folder && !(SAME_LAYER[folder] ?? []).includes(f));
    if (undeclared.length === 0) return [];
    const exceptions = Object.keys(KNOWN_CYCLES).filter((file) => file.startsWith(`src/${folder}/`));
    const to = { path: `^src/(${undeclared.join('|')})/` };
    return [
      {
        name: `same-layer-${folder}`,
        comment: `src/${folder} imports of its own layer are declared in SAME_LAYER (${(SAME_LAYER[folder] ?? []).join(', ') || 'none'})`,
        severity: 'error',
        from: {
          path: `^src/${folder}/`,
          ...(exceptions.length > 0 ? { pathNot: exceptions.map((f) => `^${exactly(f)}$`) } : {}),
        },
        to,
      },
      ...exceptions.map((file) => ({
        name: `known-cycle-${folder}`,
        comment: `${file} may import only ${KNOWN_CYCLES[file].join(', ')} beyond SAME_LAYER (a known cycle between folders)`,
        severity: 'error',
        from: { path: `^${exactly(file)}$` },
        to: { ...to, pathNot: KNOWN_CYCLES[file].map((f) => `^${exactly(f)}$`) },
      })),
    ];
  }),
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
    ...sameLayerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
