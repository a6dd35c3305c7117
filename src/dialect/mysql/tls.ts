import { readTlsFile } from '../tls-file.js';

/** TLS options handed to mysql2 (a subset of node's `tls.connect` options). */
export interface MysqlTlsOptions {
  rejectUnauthorized: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  /** Replaced by a no-op for `VERIFY_CA`: the chain is checked, the host name is not. */
  checkServerIdentity?: () => undefined;
}

const MYSQL_SSL_MODES = ['DISABLED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;
/**
 * TLS for the MySQL source, from the URL's parameters (the names of the mysql client's options):
 * `ssl-mode=DISABLED|REQUIRED|VERIFY_CA|VERIFY_IDENTITY`, `ssl-ca=/path/ca.pem`,
 * `ssl-cert=/path/client.pem`, `ssl-key=/path/client-key.pem`; `ssl=true` means VERIFY_IDENTITY.
 * A CA alone implies VERIFY_CA. Undefined = no TLS. Throws a plain Error saying what is wrong.
 */
export function mysqlTlsOptions(url: string): MysqlTlsOptions | undefined {
  const params = new URL(url).searchParams;
  const get = (...names: string[]): string | undefined => {
    for (const name of names) {
      const value = params.get(name);
      if (value !== null && value !== '') return value;
    }
    return undefined;
  };
  const rawMode = get('ssl-mode', 'sslmode', 'ssl_mode');
  const ssl = get('ssl');
  const caPath = get('ssl-ca', 'sslca', 'ssl_ca');
  const certPath = get('ssl-cert', 'sslcert', 'ssl_cert');
  const keyPath = get('ssl-key', 'sslkey', 'ssl_key');
  let mode: (typeof MYSQL_SSL_MODES)[number] | undefined;
  if (rawMode !== undefined) {
    const upper = rawMode.toUpperCase().replace(/-/g, '_');
    if (!(MYSQL_SSL_MODES as readonly string[]).includes(upper)) {
      throw new Error(`ssl-mode=${rawMode} is not supported for MySQL; use one of ${MYSQL_SSL_MODES.join(', ')}`);
    }
    mode = upper as (typeof MYSQL_SSL_MODES)[number];
  } else if (ssl !== undefined) {
    if (!['true', 'false', '1', '0'].includes(ssl.toLowerCase())) throw new Error(`ssl=${ssl} must be true or false`);
    mode = ['true', '1'].includes(ssl.toLowerCase()) ? 'VERIFY_IDENTITY' : 'DISABLED';
  } else if (caPath !== undefined || certPath !== undefined) {
    mode = 'VERIFY_CA';
  }
  if (mode === undefined || mode === 'DISABLED') return undefined;
  const options: MysqlTlsOptions = { rejectUnauthorized: mode !== 'REQUIRED' };
  if (caPath !== undefined) options.ca = readTlsFile('ssl-ca', caPath);
  if (certPath !== undefined) options.cert = readTlsFile('ssl-cert', certPath);
  if (keyPath !== undefined) options.key = readTlsFile('ssl-key', keyPath);
  if (mode === 'VERIFY_CA') options.checkServerIdentity = () => undefined;
  return options;
}
