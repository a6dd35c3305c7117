import { columnReferenceOf, type ColumnReference } from './ast-helpers.js';
import type { ColumnBinding, StoredFunctionSignature } from './expression-types.js';
import type { AstNode } from './mysql-parse.js';

/** What stored code adds to a SELECT's names. */
export interface StoredContext {
  /** A variable or parameter (or NEW.col/OLD.col) the reference names, else null. */
  variable?: (ref: ColumnReference) => ColumnBinding | null;
  functions?: ReadonlyMap<string, StoredFunctionSignature>;
}

/** `*` and `t.*` spelled out as the FROM items' columns (stored code's SELECTs keep them; views never do). */
export function expandStars(
  columns: AstNode[],
  items: readonly { alias: string; columns: readonly { name: string }[] }[],
): AstNode[] {
  return columns.flatMap((column) => {
    const expr = column.expr as AstNode;
    if (expr.type !== 'column_ref' || columnReferenceOf(expr).column !== '*') return [column];
    const table = columnReferenceOf(expr).table;
    return items
      .filter((item) => table === null || item.alias.toLowerCase() === table.toLowerCase())
      .flatMap((item) =>
        item.columns.map((c) => ({
          expr: { type: 'column_ref', table: item.alias, column: c.name },
          as: null,
        })),
      );
  });
}
