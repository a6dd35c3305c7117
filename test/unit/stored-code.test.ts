import { describe, expect, it } from 'vitest';
import { describeEvent } from '../../src/schema/stored/describe-events.js';
import { parseStoredBody } from '../../src/schema/stored/stored-parser.js';
import { StoredCodeError } from '../../src/schema/stored/stored-tokens.js';
import { mapStoredType } from '../../src/schema/stored/stored-types.js';
import { orderedTriggerNames } from '../../src/schema/stored/translate-stored.js';
import type { SourceEvent, SourceTrigger } from '../../src/schema/stored/source-stored-code.js';

function refusal(body: string): string {
  try {
    parseStoredBody(body);
  } catch (error) {
    if (error instanceof StoredCodeError) return error.message;
    throw error;
  }
  return 'parsed';
}

describe('stored code reader', () => {
  it('reads blocks, labels, loops, handlers and SELECT … INTO anywhere in the statement', () => {
    const body = parseStoredBody(`lbl: BEGIN
      DECLARE a, b INT DEFAULT 0; # two at once
      DECLARE c CURSOR FOR SELECT x FROM t;
      DECLARE CONTINUE HANDLER FOR NOT FOUND SET a = 1;
      w: WHILE a < 3 DO SET a = a + 1; END WHILE w;
      REPEAT SET b = b + 1; UNTIL b > CASE WHEN a > 1 THEN 2 ELSE 3 END END REPEAT;
      SELECT COUNT(*) FROM t WHERE y = a INTO b;
      IF NOT(a <=> b) THEN LEAVE lbl; ELSEIF a THEN SET @u = 1; ELSE BEGIN END; END IF;
    END lbl`);
    expect(body.kind).toBe('block');
    if (body.kind !== 'block') return;
    expect(body.label).toBe('lbl');
    expect(body.variables.map((v) => [v.name, v.type, v.default?.text])).toEqual([
      ['a', 'INT', '0'],
      ['b', 'INT', '0'],
    ]);
    expect(body.cursors[0]?.select.text).toBe('SELECT x FROM t');
    expect(body.handler?.kind).toBe('continue');
    expect(body.body.map((s) => s.kind)).toEqual(['while', 'repeat', 'sql', 'if']);
    const repeat = body.body[1]!;
    expect(repeat.kind === 'repeat' && repeat.condition.text).toBe('b > CASE WHEN a > 1 THEN 2 ELSE 3 END');
    const select = body.body[2]!;
    expect(select.kind === 'sql' && [select.statement.text, select.into]).toEqual([
      'SELECT COUNT(*) FROM t WHERE y = a',
      ['b'],
    ]);
    const branch = body.body[3]!;
    // <=> reaches the SQL parser (which lacks it) spelled RLIKE; the translator reads it back.
    expect(branch.kind === 'if' && branch.branches[0]!.condition.text).toBe('NOT(a  RLIKE  b)');
  });

  it('refuses what it does not translate, naming the line and construct', () => {
    expect(refusal('BEGIN\n  DECLARE x INT;\n  DECLARE EXIT HANDLER FOR SQLEXCEPTION SET x = 1;\nEND')).toBe(
      'line 3: a handler for SQLEXCEPTION (only NOT FOUND is translated)',
    );
    expect(refusal('BEGIN\n  PREPARE s FROM @sql;\nEND')).toBe('line 2: the statement PREPARE');
    expect(refusal("BEGIN\n\n  SET SESSION sql_mode = '';\nEND")).toBe('line 3: SET SESSION');
    expect(refusal('BEGIN\n  SIGNAL bad_thing;\nEND')).toBe('line 2: SIGNAL of a named condition');
    expect(refusal('BEGIN\n  SELECT a FROM t INTO OUTFILE "/tmp/x";\nEND')).toBe('line 2: SELECT … INTO OUTFILE');
    expect(refusal('SET NEW.a = 1')).toBe('parsed');
  });

  it('maps parameter and variable types through the type map, BOOLEAN as smallint', () => {
    expect(mapStoredType('decimal(5,2)', 1).pg).toBe('numeric(5,2)');
    expect(mapStoredType('BOOLEAN', 1).pg).toBe('smallint');
    expect(mapStoredType('tinyint(1)', 1).pg).toBe('smallint');
    expect(mapStoredType('int(10) unsigned', 1).pg).toBe('bigint');
    expect(mapStoredType('varchar(32) CHARSET utf8mb4', 1).pg).toBe('varchar(32)');
    expect(mapStoredType('DATETIME', 1).pg).toBe('timestamp');
  });

  it('names same-event triggers so that PostgreSQL fires them in MySQL order', () => {
    const trigger = (name: string, order: number, event: SourceTrigger['event'] = 'UPDATE'): SourceTrigger => ({
      name,
      table: 't',
      timing: 'BEFORE',
      event,
      order,
      body: 'SET NEW.a = 1',
      sqlMode: '',
    });
    const triggers = [trigger('zz_first', 1), trigger('aa_second', 2), trigger('alone', 1, 'INSERT')];
    expect([...orderedTriggerNames(triggers).values()]).toEqual(['01_zz_first', '02_aa_second', 'alone']);
  });

  it('suggests a pg_cron schedule where cron can say it', () => {
    const event = (value: string, field: string, type = 'RECURRING'): SourceEvent => ({
      name: 'e',
      body: 'DELETE FROM t',
      type,
      executeAt: type === 'ONE TIME' ? '2030-01-01 00:00:00' : null,
      intervalValue: value,
      intervalField: field,
      starts: '2030-01-01 03:30:00',
      ends: null,
      status: 'ENABLED',
    });
    expect(describeEvent(event('1', 'DAY')).suggestion).toBe(
      "SELECT cron.schedule('e', '30 3 * * *', '-- MySQL: DELETE FROM t')",
    );
    expect(describeEvent(event('15', 'MINUTE')).suggestion).toMatch(/'\*\/15 \* \* \* \*'/);
    expect(describeEvent(event('7', 'MINUTE')).suggestion).toBeNull();
    expect(describeEvent(event('30', 'SECOND')).suggestion).toMatch(/'30 seconds'/);
    expect(describeEvent(event('1', 'DAY', 'ONE TIME')).schedule).toBe('AT 2030-01-01 00:00:00 (enabled)');
  });
});
