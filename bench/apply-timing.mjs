/**
 * A profiling aid for the follow benchmark, loaded into the `my2pg run` process:
 *   BENCH_MY2PG_NODE_OPTIONS="--import ./bench/apply-timing.mjs" npm run bench -- --follow …
 * It wraps the built ChangeApplier's methods (dist/, nothing in src/ changes) and,
 * on SIGUSR2 (the benchmark sends one after each phase) writes to stderr where the follower's apply time went: per table, the DELETE of the changed
 * keys, and the re-read from MySQL streamed into COPY (one step: the rows go from one socket to
 * the other), with calls and keys. Also the whole applier.apply() per table.
 */
import { ChangeApplier } from '../dist/src/follow/apply-changes.js';

const totals = new Map();
const add = (name, table, ms, keys) => {
  const k = `${name} ${table}`;
  const t = totals.get(k) ?? { ms: 0, calls: 0, keys: 0 };
  t.ms += ms;
  t.calls += 1;
  t.keys += keys;
  totals.set(k, t);
};
for (const [method, keysArg] of [
  ['apply', 2],
  ['deleteKeys', 2],
  ['copyCurrentRows', 2],
]) {
  const original = ChangeApplier.prototype[method];
  ChangeApplier.prototype[method] = async function (...args) {
    const started = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      const table = typeof args[1] === 'string' ? args[1] : (args[1]?.plan?.table ?? '?');
      add(method, table, performance.now() - started, args[keysArg]?.length ?? 0);
    }
  };
}
const report = (when) => {
  const lines = [
    `apply-timing: --- ${when}`,
    ...[...totals]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([k, t]) =>
          `apply-timing: ${k}: ${(t.ms / 1000).toFixed(2)} s in ${t.calls} calls, ${t.keys} keys, ${(t.keys / (t.ms / 1000)).toFixed(0)} keys/s`,
      ),
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
  totals.clear();
};
// The benchmark sends SIGUSR2 at the end of each phase: the figures since the last report.
process.on('SIGUSR2', () => report('since the last report'));
process.on('exit', () => report('at exit'));
