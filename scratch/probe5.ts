import { parseMysqlSelect } from '../src/schema/translate/mysql-parse.js';
import fs from 'node:fs';
const lines = fs.readFileSync('/tmp/tr/views.txt', 'utf8').split('\n').filter(Boolean);
for (const line of lines) {
  try { const ast = parseMysqlSelect(line); console.log('OK', line.slice(0, 40)); if (line.includes('customer_list') || line.includes('cu`.`customer_id')) { console.log(JSON.stringify(ast.from, null, 0).slice(0, 1500)); console.log(JSON.stringify(ast.columns.slice(5,6))); } }
  catch (e) { console.log('FAIL', (e as Error).message); }
}
const u = parseMysqlSelect("select a from t union all select b from u order by 1 limit 3, 5");
console.log(JSON.stringify({ next: !!u._next, set_op: u.set_op, limit: u.limit, orderby: u.orderby, gb: parseMysqlSelect('select a from t group by a with rollup').groupby }));
console.log(JSON.stringify(parseMysqlSelect("select a from t where x in (select 1) and exists (select 2)").where).slice(0, 800));
console.log(JSON.stringify(parseMysqlSelect("select * from t join u using (a, b)").from));
console.log(JSON.stringify(parseMysqlSelect("select t.*, x from (select 1 as x) d, t cross join v").from), JSON.stringify(parseMysqlSelect("select t.* from t").columns));
