import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { mysqlTlsOptions } from '../../src/dialect/mysql/tls.js';
import { withLibpqSslModes } from '../../src/dialect/postgres/tls.js';

const dir = mkdtempSync(join(tmpdir(), 'my2pg-tls-'));
const ca = join(dir, 'ca.pem');
writeFileSync(ca, 'CA-PEM');
const base = 'mysql://u:p@db:3306/app';

describe('MySQL TLS from URL parameters', () => {
  it.each([
    ['', undefined],
    ['?ssl-mode=DISABLED', undefined],
    ['?ssl=false', undefined],
    ['?ssl-mode=REQUIRED', { rejectUnauthorized: false }],
    ['?ssl-mode=required', { rejectUnauthorized: false }],
    ['?ssl=true', { rejectUnauthorized: true }],
    ['?ssl-mode=VERIFY_IDENTITY', { rejectUnauthorized: true }],
    [`?ssl-mode=VERIFY_IDENTITY&ssl-ca=${ca}`, { rejectUnauthorized: true, ca: 'CA-PEM' }],
  ])('%s', (query, expected) => {
    expect(mysqlTlsOptions(base + query)).toEqual(expected);
  });

  it('VERIFY_CA (or a CA alone) checks the chain but not the host name', () => {
    for (const query of [`?ssl-mode=VERIFY_CA&ssl-ca=${ca}`, `?ssl-ca=${ca}`]) {
      const tls = mysqlTlsOptions(base + query)!;
      expect(tls.rejectUnauthorized).toBe(true);
      expect(tls.ca).toBe('CA-PEM');
      expect(tls.checkServerIdentity?.()).toBeUndefined();
    }
  });

  it('rejects unknown modes and unreadable files, saying which', () => {
    expect(() => mysqlTlsOptions(`${base}?ssl-mode=PREFERRED`)).toThrow(
      'ssl-mode=PREFERRED is not supported for MySQL',
    );
    expect(() => mysqlTlsOptions(`${base}?ssl=maybe`)).toThrow('ssl=maybe must be true or false');
    expect(() => mysqlTlsOptions(`${base}?ssl-ca=/nope/ca.pem`)).toThrow(
      'cannot read the file of ssl-ca (/nope/ca.pem): ENOENT',
    );
  });
});

describe('PostgreSQL sslmode', () => {
  it.each([
    ['postgresql://h/db', 'postgresql://h/db'],
    ['postgresql://h/db?sslmode=disable', 'postgresql://h/db?sslmode=disable'],
    ['postgresql://h/db?sslmode=verify-full', 'postgresql://h/db?sslmode=verify-full'],
    ['postgresql://h/db?sslmode=require', 'postgresql://h/db?sslmode=require&uselibpqcompat=true'],
    [
      'postgresql://h/db?sslmode=require&uselibpqcompat=false',
      'postgresql://h/db?sslmode=require&uselibpqcompat=false',
    ],
  ])('%s gets libpq semantics', (url, expected) => {
    expect(withLibpqSslModes(url)).toBe(expected);
  });

  it('config lists bad TLS parameters of both URLs at once, passwords redacted', () => {
    const env = {
      MYSQL_URL: 'mysql://u:Sekret1@db:3306/app?ssl-mode=SOMETIMES',
      DATABASE_URL: 'postgresql://u:Sekret2@pg/app?sslmode=verify-ca',
    };
    let message = '';
    try {
      loadConfig({}, ['source', 'target', 'queue'], env);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('ssl-mode=SOMETIMES is not supported');
    expect(message).toContain('sslmode=verify-ca needs the CA');
    expect(message).not.toMatch(/Sekret/);
  });

  it('reads the lock, stall and outage settings', () => {
    const config = loadConfig({}, [], {
      MY2PG_LOCK_DURATION_MS: '2000',
      MY2PG_STALLED_INTERVAL_MS: '1000',
      MY2PG_REDIS_OUTAGE_MS: '5000',
    });
    expect([config.lockDurationMs, config.stalledIntervalMs, config.redisOutageMs]).toEqual([2000, 1000, 5000]);
    expect(() => loadConfig({}, [], { MY2PG_LOCK_DURATION_MS: '10' })).toThrow(
      'MY2PG_LOCK_DURATION_MS must be at least 1000',
    );
  });
});
