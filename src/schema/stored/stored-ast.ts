/** An expression or embedded SQL statement of stored code, as MySQL text (translated later by the SQL parser). */
export interface StoredText {
  text: string;
  line: number;
}

/** A variable declared by DECLARE. */
interface StoredVariable {
  name: string;
  /** The MySQL type as written (`DECIMAL(5,2)`, `VARCHAR(32)`). */
  type: string;
  default: StoredText | null;
  line: number;
}

/** DECLARE … HANDLER FOR NOT FOUND (the only condition translated). */
export interface StoredHandler {
  kind: 'continue' | 'exit';
  body: StoredStatement;
  line: number;
}

/** DECLARE … CURSOR FOR SELECT. */
interface StoredCursor {
  name: string;
  select: StoredText;
  line: number;
}

/** A BEGIN … END block with what it declares. */
export interface StoredBlock {
  kind: 'block';
  label: string | null;
  variables: StoredVariable[];
  cursors: StoredCursor[];
  handler: StoredHandler | null;
  body: StoredStatement[];
  line: number;
}

/** One statement of a MySQL routine or trigger body. */
export type StoredStatement =
  | StoredBlock
  | { kind: 'set'; assignments: { target: string; value: StoredText }[]; line: number }
  | {
      kind: 'if';
      branches: { condition: StoredText; body: StoredStatement[] }[];
      otherwise: StoredStatement[] | null;
      line: number;
    }
  | {
      kind: 'case';
      subject: StoredText | null;
      branches: { condition: StoredText; body: StoredStatement[] }[];
      otherwise: StoredStatement[] | null;
      line: number;
    }
  | { kind: 'while'; label: string | null; condition: StoredText; body: StoredStatement[]; line: number }
  | { kind: 'repeat'; label: string | null; condition: StoredText; body: StoredStatement[]; line: number }
  | { kind: 'loop'; label: string | null; body: StoredStatement[]; line: number }
  | { kind: 'leave' | 'iterate'; label: string; line: number }
  | { kind: 'return'; value: StoredText; line: number }
  /** SELECT/INSERT/UPDATE/DELETE/REPLACE; `into` holds SELECT … INTO's targets. */
  | { kind: 'sql'; statement: StoredText; into: string[] | null; line: number }
  | { kind: 'open' | 'close'; cursor: string; line: number }
  | { kind: 'fetch'; cursor: string; into: string[]; line: number }
  | { kind: 'signal'; sqlstate: string; message: StoredText | null; line: number }
  | {
      kind: 'create-temporary';
      table: string;
      columns: { name: string; type: string; notNull: boolean }[];
      primaryKey: string[];
      line: number;
    }
  | { kind: 'drop-temporary'; table: string; ifExists: boolean; line: number }
  | { kind: 'call'; procedure: string; args: StoredText[]; line: number };
