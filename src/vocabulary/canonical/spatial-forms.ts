/** Spatial values on both sides: MySQL's SRID-prefixed WKB and PostGIS's hex EWKB, read to one form. */

/** A MySQL geometry value (4-byte SRID, then WKB) taken apart. */
export function mysqlGeometry(value: Buffer): { srid: number; wkb: Buffer } {
  return { srid: value.length >= 4 ? value.readUInt32LE(0) : 0, wkb: value.subarray(4) };
}

/** PostGIS hex EWKB as `srid:wkb-hex` (SRID flag and field taken out; 0 when absent). */
export function ewkbHexToSridWkb(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  if (bytes.length < 5) return hex;
  const little = bytes[0] === 1;
  const kind = little ? bytes.readUInt32LE(1) : bytes.readUInt32BE(1);
  if ((kind & 0x20000000) === 0) return `0:${hex.toLowerCase()}`;
  const srid = little ? bytes.readUInt32LE(5) : bytes.readUInt32BE(5);
  const head = Buffer.alloc(5);
  head[0] = bytes[0]!;
  if (little) head.writeUInt32LE(kind & ~0x20000000, 1);
  else head.writeUInt32BE(kind & ~0x20000000, 1);
  return `${srid}:${Buffer.concat([head, bytes.subarray(9)]).toString('hex')}`;
}

/** The coordinates of a WKB point (null when the geometry is not a point). */
export function wkbPoint(wkb: Buffer): [number, number] | null {
  if (wkb.length < 21) return null;
  const little = wkb[0] === 1;
  const type = little ? wkb.readUInt32LE(1) : wkb.readUInt32BE(1);
  if (type !== 1) return null;
  return little ? [wkb.readDoubleLE(5), wkb.readDoubleLE(13)] : [wkb.readDoubleBE(5), wkb.readDoubleBE(13)];
}
