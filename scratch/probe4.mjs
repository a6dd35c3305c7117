import { parse } from 'sql-parser-cst';
import fs from 'node:fs';
const opts = { dialect: 'mysql', includeRange: true, paramTypes: [] };
for (const line of fs.readFileSync('/tmp/tr/views.txt','utf8').split('\n').filter(Boolean)) {
  for (const dialect of ['mysql','mariadb']) {
  try { const cst = parse(line, { ...opts, dialect }); console.log(dialect, 'OK', JSON.stringify(cst).length); }
  catch (e) { console.log(dialect, 'FAIL', e.message.slice(0,300)); }
  }
}
const e = parse("select a and b or c, 1 + 2 * 3, x'41', 'a''b\\'c', _utf8mb4'x', a <=> b, substring(a from 2 for 3), j->>'$.a', 5 div 2, cast(a as decimal(10,2)), convert(a using utf8mb4), interval 1 day + d, trim(both 'x' from a) from t", { dialect: 'mysql' });
console.log(JSON.stringify(e.statements[0].columns, null, 0).slice(0, 5000));
