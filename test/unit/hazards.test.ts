import { describe, expect, it } from 'vitest';
import { probesOf, type HazardPolicies } from '../../src/schema/hazards.js';
import { structuralHazards } from '../../src/schema/structural-hazards.js';
import type { SourceTable } from '../../src/dialect/mysql/catalog.js';
import { src, tgt } from '../helpers/columns.js';

const defaults: HazardPolicies = { nul: 'reject', zeroDate: 'null', allowRejects: false };
const kinds = (probes: { kind: string; blocking: boolean }[]) =>
  probes.map((p) => `${p.kind}:${p.blocking ? 'blocking' : 'ok'}`);

describe('hazard probes', () => {
  it('follow the zero-date and NUL policies the operator chose', () => {
    expect(kinds(probesOf(src('datetime'), 'timestamp', defaults))).toEqual(['zero-date:ok']);
    expect(kinds(probesOf(src('datetime'), 'timestamp', { ...defaults, zeroDate: 'reject' }))).toEqual([
      'zero-date:blocking',
    ]);
    expect(
      kinds(probesOf(src('datetime'), 'timestamp', { ...defaults, zeroDate: 'reject', allowRejects: true })),
    ).toEqual(['zero-date:ok']);
    // NULL into an existing NOT NULL column is refused, whatever the policy says.
    expect(kinds(probesOf(src('date'), 'date', defaults, { ...tgt('date', 'D'), notNull: true }))).toEqual([
      'zero-date:blocking',
    ]);
    expect(kinds(probesOf(src('varchar'), 'text', defaults))).toEqual(['nul-character:blocking']);
    expect(kinds(probesOf(src('varchar'), 'text', { ...defaults, nul: 'strip' }))).toEqual(['nul-character:ok']);
    expect(kinds(probesOf(src('text'), 'bytea', { ...defaults, nul: 'bytea' }))).toEqual(['nul-character:ok']);
    // A created table's column becomes bytea; an existing text column still refuses NUL.
    expect(kinds(probesOf(src('text'), 'text', { ...defaults, nul: 'bytea' }))).toEqual(['nul-character:ok']);
    expect(kinds(probesOf(src('text'), 'text', { ...defaults, nul: 'bytea' }, tgt('text', 'S')))).toEqual([
      'nul-character:blocking',
    ]);
    expect(probesOf(src('date'), 'text', defaults, { ...tgt('text', 'S'), notNull: true })).toEqual([]);
    expect(kinds(probesOf(src('json'), 'jsonb', defaults))).toEqual([
      'nul-character:blocking',
      'invalid-json:blocking',
    ]);
    expect(probesOf(src('datetime', { generated: true }), 'timestamp', defaults)).toEqual([]);
  });

  it('check what an existing target column cannot take', () => {
    expect(kinds(probesOf(src('int'), 'smallint', defaults, tgt('int2', 'N')))).toEqual(['out-of-range:blocking']);
    expect(probesOf(src('int'), 'smallint', defaults, tgt('int2', 'N'))[0]!.condition).toBe(
      '(`c` < -32768 OR `c` > 32767)',
    );
    expect(kinds(probesOf(src('bigint', { unsigned: true }), 'bigint', defaults, tgt('int8', 'N')))).toEqual([
      'unsigned-beyond-bigint:blocking',
    ]);
    expect(kinds(probesOf(src('bigint', { unsigned: true }), 'bigint', defaults))).toEqual([
      'unsigned-beyond-bigint:blocking',
    ]);
    expect(probesOf(src('bigint', { unsigned: true }), 'numeric(20)', defaults)).toEqual([]);
    expect(
      probesOf(src('decimal'), 'numeric(6,2)', defaults, { ...tgt('numeric', 'N'), formattedType: 'numeric(6,2)' })[0]!
        .condition,
    ).toBe('ABS(`c`) >= POW(10, 4)');
    const varchar = probesOf(
      src('varchar'),
      'character varying(5)',
      { ...defaults, nul: 'strip' },
      { ...tgt('varchar', 'S'), formattedType: 'character varying(5)' },
    );
    expect(kinds(varchar)).toEqual(['nul-character:ok', 'too-long:blocking']);
    expect(varchar[1]!.condition).toBe('CHAR_LENGTH(`c`) > 5');
    const enumProbe = probesOf(
      src('varchar'),
      'mood',
      { ...defaults, nul: 'strip' },
      { ...tgt('mood', 'E'), enumLabels: ["it's", 'a\\b'] },
    )[1]!;
    expect(enumProbe).toMatchObject({
      kind: 'not-an-enum-label',
      condition: "CAST(`c` AS BINARY) NOT IN ('it''s', 'a\\\\b')",
    });
    expect(kinds(probesOf(src('tinyint'), 'boolean', defaults, tgt('bool', 'B')))).toEqual(['not-boolean:blocking']);
    expect(kinds(probesOf(src('tinyint'), 'boolean', { ...defaults, allowRejects: true }, tgt('bool', 'B')))).toEqual([
      'not-boolean:ok',
    ]);
  });

  it('find from the catalogs alone what makes a table fail', () => {
    const table: SourceTable = {
      name: 't',
      columns: [src('int', { name: 'id' }), src('int', { name: 'extra' })],
      primaryKey: [],
      indexes: [],
      foreignKeys: [],
      autoIncrement: null,
      estimatedRows: 0,
      comment: '',
    };
    const target = {
      name: 't',
      columns: [
        { ...tgt('int4', 'N'), name: 'id' },
        { ...tgt('text', 'S'), name: 'needed', notNull: true },
        { ...tgt('text', 'S'), name: 'defaulted', notNull: true, hasDefault: true },
      ],
    };
    const hazards = structuralHazards(table, target);
    expect(hazards.map((h) => `${h.kind} ${h.column} ${h.blocking}`)).toEqual([
      'no-primary-key null false',
      'missing-target-column extra true',
      'unfilled-not-null-column needed true',
    ]);
    expect(hazards[1]!.fix).toMatch(/has no column extra.*ADD COLUMN/);
    expect(structuralHazards({ ...table, primaryKey: ['id'] }, undefined)).toEqual([]);
  });
});
