/** A value as PostgreSQL printed it (a key read back from the target), not as the binary log gave it. */
export class TargetText {
  constructor(readonly text: string) {}
}

/** One changed row's key, column by column in key order: as the binary log gives it (numbers, strings, bytes), or read back from the target. */
export type ChangedKey = readonly (string | number | Buffer | TargetText)[];

/** A key's values as one string, to hold each key once. */
export function keyText(values: ChangedKey): string {
  return JSON.stringify(
    values.map((v) => (Buffer.isBuffer(v) ? `0x${v.toString('hex')}` : typeof v === 'object' ? `pg:${v.text}` : v)),
  );
}

/** Whether two values of a row image are equal (bytes by content). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b;
}
