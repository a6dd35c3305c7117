/**
 * Does a read by key, issued as soon as a row event arrives from the binary log, see the row as
 * that event left it? `npx tsx bench/read-after-binlog.mjs` (VIS_SECONDS=15 by default) starts a
 * private MariaDB (binary log on), has 4 connections increment random rows of a 1000-row table
 * (autocommit UPDATEs) and, for every fifth row event ZongJi delivers, reads the row at once on
 * two connections side by side: a plain SELECT and a SELECT … LOCK IN SHARE MODE. A read whose
 * value is below the event's after-image saw the row before that transaction's commit became
 * visible: the server sends a transaction's events once they are in the binary log, before
 * InnoDB's commit ends. A third read, 300 ms later, is the follower's second reading (RECHECK_MS
 * in src/follow/follower.ts). Prints the counts as JSON.
 */
import ZongJi from '@vlasky/zongji';
import mysql from 'mysql2/promise';
import { startPrivateMariadb } from './private-mariadb.ts';

const server = await startPrivateMariadb();
try {
  const admin = await mysql.createConnection({ uri: server.url });
  await admin.query('CREATE DATABASE v');
  await admin.query('USE v');
  await admin.query('CREATE TABLE kv (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB');
  await admin.query('INSERT INTO kv SELECT seq, 0 FROM seq_1_to_1000');
  const [[status]] = await admin.query('SHOW MASTER STATUS');
  const plain = await mysql.createConnection({ uri: server.url });
  const locking = await mysql.createConnection({ uri: server.url });
  const delayed = await mysql.createConnection({ uri: server.url });
  const later = [];
  const stats = { rowEvents: 0, checked: 0, plainStale: 0, lockingStale: 0, checkedLater: 0, laterStale: 0 };
  const zongji = new ZongJi({ host: '127.0.0.1', port: server.port, user: 'root', password: '' });
  let chain = Promise.resolve();
  zongji.on('binlog', (event) => {
    if (event.getEventName() !== 'updaterows') return;
    for (const row of event.rows ?? []) {
      stats.rowEvents += 1;
      if (stats.rowEvents % 5 !== 0) continue;
      const { id, n } = row.after;
      chain = chain.then(async () => {
        const [[[a]], [[b]]] = await Promise.all([
          plain.query('SELECT n FROM v.kv WHERE id = ?', [id]),
          locking.query('SELECT n FROM v.kv WHERE id = ? LOCK IN SHARE MODE', [id]),
        ]);
        stats.checked += 1;
        if (a.n < n) stats.plainStale += 1;
        if (b.n < n) stats.lockingStale += 1;
        // The follower's second reading: a plain SELECT 300 ms after the first (RECHECK_MS).
        later.push(
          new Promise((resolve) => setTimeout(resolve, 300)).then(async () => {
            const [[c]] = await delayed.query('SELECT n FROM v.kv WHERE id = ?', [id]);
            stats.checkedLater += 1;
            if (c.n < n) stats.laterStale += 1;
          }),
        );
      });
    }
  });
  zongji.start({
    filename: status.File,
    position: Number(status.Position),
    serverId: 4242,
    includeEvents: ['tablemap', 'updaterows'],
    includeSchema: { v: ['kv'] },
  });
  const writers = await Promise.all(Array.from({ length: 4 }, () => mysql.createConnection({ uri: server.url })));
  const until = Date.now() + Number(process.env.VIS_SECONDS ?? 15) * 1000;
  await Promise.all(
    writers.map(async (w) => {
      while (Date.now() < until)
        await w.query('UPDATE v.kv SET n = n + 1 WHERE id = ?', [1 + Math.floor(Math.random() * 1000)]);
    }),
  );
  await new Promise((r) => setTimeout(r, 2000));
  await chain;
  await Promise.all(later);
  process.stdout.write(`${JSON.stringify(stats)}\n`);
  zongji.stop();
  for (const c of [admin, plain, locking, delayed, ...writers]) await c.end();
} finally {
  await server.stop();
}
