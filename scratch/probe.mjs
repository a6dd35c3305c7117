import pkg from 'node-sql-parser';
import fs from 'node:fs';
const { Parser } = pkg;
const p = new Parser();
for (const line of fs.readFileSync('/tmp/tr/views.txt','utf8').split('\n').filter(Boolean)) {
  for (const db of ['MySQL','MariaDB']) {
  try { const ast = p.astify(line.replace(/\\n/g,'\n'), { database: db }); console.log(db, 'OK', JSON.stringify(ast).slice(0,200)); }
  catch (e) { console.log(db, 'FAIL', e.message.slice(0,150)); }
  }
}
