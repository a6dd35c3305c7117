import { parseMysqlSelect } from '../src/schema/translate/mysql-parse.js';
console.log(JSON.stringify(parseMysqlSelect('select a from t group by a').groupby));
