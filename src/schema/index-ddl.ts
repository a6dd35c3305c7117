import { literalPg, quotePg } from '../dialect/postgres/quote.js';
import type { IdentifierAllocator } from '../vocabulary/identifiers.js';
import type { SourceColumn, SourceIndex } from '../dialect/mysql/catalog.js';

/** The default text search configuration of FULLTEXT indexes: no stemming, no stop words, any language. */
export const DEFAULT_FULLTEXT_CONFIG = 'simple';

/** A deferred CREATE INDEX of a created table. */
interface IndexDefinition {
  name: string;
  definition: string;
}

/** What the index translation needs to know about the created table. */
export interface IndexContext {
  /** Source table name (for messages). */
  table: string;
  /** `"schema"."table"` of the created table. */
  qualifiedTable: string;
  /** The target table's name, the base of index names. */
  targetTable: string;
  /** Source column by name. */
  column(name: string): SourceColumn | undefined;
  /** The created column's name in PostgreSQL. */
  targetColumn(name: string): string;
  /** The created column's PostgreSQL type (`varchar(255)`, `text`, `bytea`, `"public".geometry`). */
  targetType(name: string): string | undefined;
  /** Columns the run copies (with --entities, a subset). */
  included: ReadonlySet<string>;
  /** Text search configuration of FULLTEXT indexes. */
  fulltextConfig: string;
  names: IdentifierAllocator;
  /** The run's case rule applied to a source index name (default: kept). */
  objectName?: (name: string) => string;
}

/** What became of the indexes of one table. */
export interface IndexTranslation {
  indexes: IndexDefinition[];
  warnings: string[];
  /** Indexes whose PostgreSQL form differs from MySQL's (prefix, FULLTEXT, SPATIAL), for the report. */
  notes: string[];
}

/** Whole columns of at most this many bytes (together) always fit a btree entry (PostgreSQL's limit is about 2700). */
const FULL_COLUMN_MAX_BYTES = 2000;

const TEXT_TYPE = /^(text|varchar|character varying|char|character|bpchar)\b/;

function isTextType(type: string | undefined): boolean {
  return type !== undefined && TEXT_TYPE.test(type.toLowerCase());
}

/** Worst-case bytes of a whole column in PostgreSQL, when bounded: varchar(n) (4 bytes a character) or varbinary(n). */
function boundedBytes(source: SourceColumn, type: string): number | null {
  const n = /^(?:varchar|character varying|char|character)\((\d+)\)$/.exec(type)?.[1];
  if (n !== undefined) return Number(n) * 4;
  if (
    type === 'bytea' &&
    (source.dataType === 'binary' || source.dataType === 'varbinary') &&
    source.maxLength !== null
  )
    return source.maxLength;
  return null;
}

/**
 * The PostgreSQL indexes of a created table, from MySQL's:
 * - plain and UNIQUE indexes as they are;
 * - a prefix part `col(n)`: in a UNIQUE index the expression `left(col, n)` (text; MySQL counts
 *   characters) or `substring(col from 1 for n)` (bytea; MySQL counts bytes), so the index
 *   refuses exactly the duplicates MySQL refuses. In a plain index the prefix only served
 *   MySQL's key length limit: the whole column is indexed when it always fits a btree entry
 *   (that index serves `col = …` and `col LIKE 'x%'` the way MySQL's did), else the expression;
 * - FULLTEXT: a GIN index on `to_tsvector('<config>', coalesce(a, '') || ' ' || coalesce(b, ''))`;
 *   a query uses it when it searches that same expression;
 * - SPATIAL: a GiST index on a PostGIS geometry or a point column; on bytea (no PostGIS) it is
 *   skipped with a warning.
 * Functional indexes (MySQL 8 key parts that are expressions) are skipped with a warning.
 */
export function translateIndexes(indexes: readonly SourceIndex[], ctx: IndexContext): IndexTranslation {
  const out: IndexTranslation = { indexes: [], warnings: [], notes: [] };
  const q = (column: string): string => quotePg(ctx.targetColumn(column));
  for (const index of indexes) {
    if (index.functional) {
      out.warnings.push(
        `${ctx.table}: index ${index.name} has expression parts, which my2pg does not translate; not migrated`,
      );
      continue;
    }
    if (index.columns.length === 0 || !index.columns.every((c) => ctx.included.has(c))) continue;
    const name = (): string =>
      ctx.names.allocate('relation', `${ctx.targetTable}_${ctx.objectName?.(index.name) ?? index.name}`);
    if (index.kind === 'FULLTEXT') {
      const bad = index.columns.filter((c) => !isTextType(ctx.targetType(c)));
      if (bad.length > 0) {
        out.warnings.push(
          `${ctx.table}: FULLTEXT index ${index.name} is not migrated: column ${bad.join(', ')} is not text in PostgreSQL (${bad.map((c) => ctx.targetType(c)).join(', ')})`,
        );
        continue;
      }
      const document = index.columns.map((c) => `coalesce(${q(c)}, '')`).join(` || ' ' || `);
      const expression = `to_tsvector(${literalPg(ctx.fulltextConfig)}::regconfig, ${document})`;
      const indexName = name();
      out.indexes.push({
        name: indexName,
        definition: `CREATE INDEX IF NOT EXISTS ${quotePg(indexName)} ON ${ctx.qualifiedTable} USING gin ((${expression}))`,
      });
      out.notes.push(
        `table ${ctx.table}: FULLTEXT index ${index.name} → GIN index ${indexName} on ${expression} (search with that expression @@ a tsquery)`,
      );
      continue;
    }
    if (index.kind === 'SPATIAL') {
      const column = index.columns[0]!;
      const type = ctx.targetType(column) ?? '';
      if (!/(^|\.)geometry$|^point$/.test(type)) {
        out.warnings.push(
          `${ctx.table}: SPATIAL index ${index.name} is not migrated: column ${column} is ${type} (install PostGIS in the target for geometry and a GiST index)`,
        );
        continue;
      }
      const indexName = name();
      out.indexes.push({
        name: indexName,
        definition: `CREATE INDEX IF NOT EXISTS ${quotePg(indexName)} ON ${ctx.qualifiedTable} USING gist (${q(column)})`,
      });
      out.notes.push(`table ${ctx.table}: SPATIAL index ${index.name} → GiST index ${indexName}`);
      continue;
    }
    const parts: string[] = [];
    const prefixNotes: string[] = [];
    let skipped = false;
    // Bytes the whole columns that replace prefixes may take together in one btree entry.
    let wholeBytes = 0;
    index.columns.forEach((column, i) => {
      const subPart = index.subParts?.[i] ?? null;
      const source = ctx.column(column);
      const type = ctx.targetType(column);
      if (subPart === null || source === undefined || type === undefined) {
        parts.push(q(column));
        return;
      }
      const bounded = boundedBytes(source, type);
      if (!index.unique && bounded !== null && wholeBytes + bounded <= FULL_COLUMN_MAX_BYTES) {
        wholeBytes += bounded;
        parts.push(q(column));
        prefixNotes.push(`${column}(${subPart}) → the whole column`);
        return;
      }
      if (type === 'bytea') {
        // MySQL counts a binary prefix in bytes, and a text one in characters: a text column
        // made bytea (--nul bytea) would count bytes here, which is not the same uniqueness.
        if (source.charset !== null && source.charset !== 'binary') {
          out.warnings.push(
            `${ctx.table}: index ${index.name}: the prefix of ${subPart} characters of ${column} (now bytea) cannot be counted in characters; not migrated`,
          );
          skipped = true;
          return;
        }
        parts.push(`(substring(${q(column)} from 1 for ${subPart}))`);
        prefixNotes.push(`${column}(${subPart}) → substring(${column} from 1 for ${subPart})`);
        return;
      }
      if (isTextType(type)) {
        parts.push(`(left(${q(column)}, ${subPart}))`);
        prefixNotes.push(`${column}(${subPart}) → left(${column}, ${subPart})`);
        return;
      }
      out.warnings.push(
        `${ctx.table}: index ${index.name}: a prefix of column ${column} (${type}) has no PostgreSQL form; not migrated`,
      );
      skipped = true;
    });
    if (skipped) continue;
    const indexName = name();
    out.indexes.push({
      name: indexName,
      definition: `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${quotePg(indexName)} ON ${ctx.qualifiedTable} (${parts.join(', ')})`,
    });
    if (prefixNotes.length > 0)
      out.notes.push(
        `table ${ctx.table}: prefix index ${index.name} → ${index.unique ? 'UNIQUE ' : ''}index ${indexName}: ${prefixNotes.join(', ')}`,
      );
  }
  return out;
}
