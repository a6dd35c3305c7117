import pkg from 'node-sql-parser';
const { Parser } = pkg;
const p = new Parser();
const exprs = process.argv.slice(2);
for (const e of exprs) {
  try { const ast = p.astify(`select ${e} as x`, { database: 'MySQL' }); const c = (Array.isArray(ast)?ast[0]:ast).columns[0].expr; console.log(e, '=>', JSON.stringify(c)); }
  catch (err) { console.log(e, 'FAIL', err.message.slice(0, 120)); }
}
