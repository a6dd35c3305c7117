import { createHash } from 'node:crypto';
import type mysql from 'mysql2/promise';
import type pg from 'pg';

/**
 * Reads whole tables from MySQL and from PostgreSQL, each side with its own SQL and driver,
 * and brings every value into one canonical text: integers and decimals as their digits,
 * floats as the hex of their IEEE bits, dates and times to the microsecond (zero dates as
 * NULL), TIME/interval as microseconds, text as it is (latin1 decoded here from the raw
 * bytes as cp1252), SET/arrays as JSON arrays, JSON through PostgreSQL's jsonb text, bytes as
 * their length and SHA-256. Nothing here shares code with my2pg.
 */

const q = (name: string): string => `\`${name.replace(/`/g, '``')}\``;
const qq = (name: string): string => `"${name.replace(/"/g, '""')}"`;

// MySQL's latin1 is cp1252 with 0x81, 0x8D, 0x8F, 0x90, 0x9D passed through as C1 controls.
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];
function decodeCp1252(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) out += String.fromCodePoint(b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80]! : b);
  return out;
}

function float64Bits(text: string): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Number(text));
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}
function float32Bits(text: string): string {
  const n = Number(text);
  // A FLOAT read back as a double must be exactly a float: otherwise one side is not exact.
  if (Math.fround(n) !== n && !Number.isNaN(n)) return `not-a-float:${text}`;
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, n);
  return view.getUint32(0).toString(16).padStart(8, '0');
}
function bytesCanonical(value: unknown): string {
  const buf = Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'utf8');
  return buf.length <= 64
    ? `hex:${buf.toString('hex')}`
    : `len:${buf.length}:sha256:${createHash('sha256').update(buf).digest('hex')}`;
}
function isZeroDate(text: string): boolean {
  return /^0000-|^\d{4}-00-|^\d{4}-\d{2}-00/.test(text);
}
function timeToMicros(text: string): string {
  const m = /^(-?)(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(text);
  if (!m) return `bad-time:${text}`;
  const micros =
    (BigInt(m[2]!) * 3600n + BigInt(m[3]!) * 60n + BigInt(m[4]!)) * 1000000n +
    BigInt((m[5] ?? '').padEnd(6, '0') || '0');
  return (m[1] === '-' ? -micros : micros).toString();
}
function wkbPoint(bytes: Buffer): string {
  const little = bytes[0] === 1;
  const x = little ? bytes.readDoubleLE(5) : bytes.readDoubleBE(5);
  const y = little ? bytes.readDoubleLE(13) : bytes.readDoubleBE(13);
  return `${float64Bits(String(x))},${float64Bits(String(y))}`;
}

/** One column as both sides describe it. */
interface ColumnPlan {
  name: string;
  mysqlType: string;
  mysqlColumnType: string;
  charset: string | null;
  isJson: boolean;
  pgUdt: string;
}

type Canon = (value: unknown) => string | null;
interface Side {
  expr: string;
  canon: Canon;
}

/** A MySQL POINT kept as a PostgreSQL point: both coordinates as IEEE bits. */
function pointPlan(c: string): { my: Side; pg: Side } {
  return {
    my: { expr: `ST_AsBinary(${q(c)})`, canon: (v) => (v === null ? null : wkbPoint(v as Buffer)) },
    pg: {
      expr: `${qq(c)}[0]::text || ',' || ${qq(c)}[1]::text`,
      canon: (v) => (v === null ? null : String(v).split(',').map(float64Bits).join(',')),
    },
  };
}

/** Any spatial value kept as a PostGIS geometry (SRID and WKB) or as bytes (WKB). */
function spatialPlan(c: string, pgUdt: string): { my: Side; pg: Side } {
  if (pgUdt === 'geometry') {
    // PostGIS keeps the SRID: compare it along with the WKB (the caller puts PostGIS on the search_path).
    const text: Canon = (v) => (v === null ? null : String(v));
    return {
      my: { expr: `CONCAT(ST_SRID(${q(c)}), ':', LOWER(HEX(ST_AsBinary(${q(c)}))))`, canon: text },
      pg: { expr: `ST_SRID(${qq(c)}) || ':' || encode(ST_AsBinary(${qq(c)}), 'hex')`, canon: text },
    };
  }
  return {
    my: { expr: `ST_AsBinary(${q(c)})`, canon: (v) => (v === null ? null : bytesCanonical(v)) },
    pg: { expr: qq(c), canon: (v) => (v === null ? null : bytesCanonical(v)) },
  };
}

function plan(column: ColumnPlan): { my: Side; pg: Side } {
  const c = column.name;
  const t = column.mysqlType;
  const text: Canon = (v) => (v === null ? null : String(v));
  const pgText = { expr: `${qq(c)}::text`, canon: text };
  if (column.pgUdt === 'bool') {
    return { my: { expr: `CAST(${q(c)} + 0 AS CHAR)`, canon: text }, pg: { expr: `${qq(c)}::int::text`, canon: text } };
  }
  if (column.isJson) {
    // Canonicalised by PostgreSQL's jsonb parser later (see readCanonicalTable): marked here.
    return {
      my: { expr: `CAST(${q(c)} AS CHAR)`, canon: (v) => (v === null ? null : `json:${String(v)}`) },
      pg: { expr: `${qq(c)}::text`, canon: (v) => (v === null ? null : `jsonb:${String(v)}`) },
    };
  }
  switch (t) {
    case 'tinyint':
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'bigint':
    case 'decimal':
    case 'enum':
      return { my: { expr: `CAST(${q(c)} AS CHAR)`, canon: text }, pg: pgText };
    case 'year':
      // YEAR prints as 4 digits ('0000' for the zero year); as a number it is what smallint holds.
      return { my: { expr: `CAST(${q(c)} + 0 AS CHAR)`, canon: text }, pg: pgText };
    case 'float':
      return {
        my: { expr: `CAST(${q(c)} AS DOUBLE)`, canon: (v) => (v === null ? null : float32Bits(String(v))) },
        pg: { expr: `${qq(c)}::float8::text`, canon: (v) => (v === null ? null : float32Bits(String(v))) },
      };
    case 'double':
      return {
        my: { expr: `CAST(${q(c)} AS CHAR)`, canon: (v) => (v === null ? null : float64Bits(String(v))) },
        pg: { expr: `${qq(c)}::text`, canon: (v) => (v === null ? null : float64Bits(String(v))) },
      };
    case 'bit': {
      const width = Number(/\((\d+)\)/.exec(column.mysqlColumnType)?.[1] ?? 1);
      return { my: { expr: `LPAD(BIN(${q(c)} + 0), ${width}, '0')`, canon: text }, pg: pgText };
    }
    case 'date':
      return {
        my: { expr: `CAST(${q(c)} AS CHAR)`, canon: (v) => (v === null || isZeroDate(String(v)) ? null : String(v)) },
        pg: pgText,
      };
    case 'datetime':
    case 'timestamp': {
      const pgExpr =
        column.pgUdt === 'timestamptz'
          ? `to_char(${qq(c)} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`
          : `to_char(${qq(c)}, 'YYYY-MM-DD HH24:MI:SS.US')`;
      return {
        my: {
          expr: `DATE_FORMAT(${q(c)}, '%Y-%m-%d %H:%i:%s.%f')`,
          canon: (v) => (v === null || isZeroDate(String(v)) ? null : String(v)),
        },
        pg: { expr: pgExpr, canon: text },
      };
    }
    case 'time':
      return {
        my: { expr: `CAST(${q(c)} AS CHAR)`, canon: (v) => (v === null ? null : timeToMicros(String(v))) },
        pg: { expr: `(extract(epoch FROM ${qq(c)}) * 1000000)::numeric(40,0)::text`, canon: text },
      };
    case 'char':
    case 'varchar':
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
      if (column.charset === 'latin1')
        return {
          my: { expr: `HEX(${q(c)})`, canon: (v) => (v === null ? null : decodeCp1252(Buffer.from(String(v), 'hex'))) },
          pg: pgText,
        };
      return { my: { expr: q(c), canon: text }, pg: pgText };
    case 'set':
      return {
        my: {
          expr: q(c),
          canon: (v) => (v === null ? null : JSON.stringify(String(v) === '' ? [] : String(v).split(','))),
        },
        pg: {
          expr: `array_to_json(${qq(c)})::text`,
          canon: (v) => (v === null ? null : JSON.stringify(JSON.parse(String(v)))),
        },
      };
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return {
        my: { expr: q(c), canon: (v) => (v === null ? null : bytesCanonical(v)) },
        pg: { expr: qq(c), canon: (v) => (v === null ? null : bytesCanonical(v)) },
      };
    case 'point':
      if (column.pgUdt === 'point') return pointPlan(c);
      return spatialPlan(c, column.pgUdt);
    case 'geometry':
    case 'linestring':
    case 'polygon':
    case 'multipoint':
    case 'multilinestring':
    case 'multipolygon':
    case 'geometrycollection':
      return spatialPlan(c, column.pgUdt);
    default:
      throw new Error(`the canonical reader has no rule for MySQL type ${t} (column ${c}); add one`);
  }
}

/** The columns of every base table of a MySQL database, paired with the PostgreSQL column types. */
async function describeTables(
  my: mysql.Connection,
  pgClient: pg.Client,
  schema: string,
): Promise<Map<string, ColumnPlan[]>> {
  const [rows] = await my.query(
    `SELECT c.TABLE_NAME AS tbl, c.COLUMN_NAME AS col, c.DATA_TYPE AS dt, c.COLUMN_TYPE AS ct, c.CHARACTER_SET_NAME AS cs,
            EXISTS (SELECT 1 FROM information_schema.CHECK_CONSTRAINTS k WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME
                     AND k.CHECK_CLAUSE = CONCAT('json_valid(\`', REPLACE(c.COLUMN_NAME, '\`', '\`\`'), '\`)')) AS isJson
       FROM information_schema.COLUMNS c JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
      WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
  );
  const pgCols = await pgClient.query<{ tbl: string; col: string; udt: string }>(
    `SELECT table_name AS tbl, column_name AS col, udt_name AS udt FROM information_schema.columns WHERE table_schema = $1`,
    [schema],
  );
  const udt = new Map(pgCols.rows.map((r) => [`${r.tbl}\u0000${r.col}`, r.udt]));
  const out = new Map<string, ColumnPlan[]>();
  for (const r of rows as Record<string, unknown>[]) {
    const table = String(r.tbl);
    const name = String(r.col);
    const list = out.get(table) ?? [];
    list.push({
      name,
      mysqlType: String(r.dt).toLowerCase(),
      mysqlColumnType: String(r.ct).toLowerCase(),
      charset: r.cs === null ? null : String(r.cs),
      isJson: Number(r.isJson) === 1,
      pgUdt: udt.get(`${table}\u0000${name}`) ?? '(missing in PostgreSQL)',
    });
    out.set(table, list);
  }
  return out;
}

/** Every row of a table on both sides, canonical, sorted (so keyless tables compare as multisets). */
async function readCanonicalTable(
  my: mysql.Connection,
  pgClient: pg.Client,
  schema: string,
  table: string,
  columns: readonly ColumnPlan[],
): Promise<{ source: string[]; target: string[] }> {
  const plans = columns.map(plan);
  const [myRows] = await my.query({
    sql: `SELECT ${plans.map((p) => p.my.expr).join(', ')} FROM ${q(table)}`,
    rowsAsArray: true,
  });
  const pgRows = await pgClient.query({
    text: `SELECT ${plans.map((p) => p.pg.expr).join(', ')} FROM ${qq(schema)}.${qq(table)}`,
    rowMode: 'array',
  });
  const jsonCanon = async (value: string | null): Promise<string | null> => {
    if (value === null) return null;
    if (value.startsWith('jsonb:')) return value.slice(6);
    if (value.startsWith('json:')) {
      // MySQL's JSON text through PostgreSQL's jsonb parser: same keys order and number form as the target's.
      const r = await pgClient.query<{ t: string }>('SELECT $1::jsonb::text AS t', [value.slice(5)]);
      return r.rows[0]!.t;
    }
    return value;
  };
  const canonRows = async (rows: unknown[][], side: 'my' | 'pg'): Promise<string[]> => {
    const out: string[] = [];
    for (const row of rows) {
      const values: (string | null)[] = [];
      for (let i = 0; i < plans.length; i += 1) values.push(await jsonCanon(plans[i]![side].canon(row[i] ?? null)));
      out.push(JSON.stringify(Object.fromEntries(columns.map((c, i) => [c.name, values[i]]))));
    }
    return out.sort();
  };
  return {
    source: await canonRows(myRows as unknown[][], 'my'),
    target: await canonRows(pgRows.rows as unknown[][], 'pg'),
  };
}

/** Compares every table; returns one line per differing row (empty when all equal). */
export async function compareAllTables(
  my: mysql.Connection,
  pgClient: pg.Client,
  schema: string,
  only?: readonly string[],
): Promise<{ tables: number; values: number; differences: string[] }> {
  const described = await describeTables(my, pgClient, schema);
  const differences: string[] = [];
  let values = 0;
  let tables = 0;
  for (const [table, columns] of described) {
    if (only && !only.includes(table)) continue;
    tables += 1;
    const missing = columns.filter((c) => c.pgUdt === '(missing in PostgreSQL)');
    if (missing.length > 0) {
      differences.push(`${table}: columns missing in PostgreSQL: ${missing.map((c) => c.name).join(', ')}`);
      continue;
    }
    const { source, target } = await readCanonicalTable(my, pgClient, schema, table, columns);
    values += source.length * columns.length;
    const targetLeft = [...target];
    for (const row of source) {
      const at = targetLeft.indexOf(row);
      if (at >= 0) targetLeft.splice(at, 1);
      else differences.push(`${table}: source row not in target: ${row.length > 400 ? `${row.slice(0, 400)}…` : row}`);
    }
    for (const row of targetLeft)
      differences.push(`${table}: target row not in source: ${row.length > 400 ? `${row.slice(0, 400)}…` : row}`);
  }
  return { tables, values, differences };
}
