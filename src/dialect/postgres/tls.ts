import { readTlsFile } from '../tls-file.js';

const PG_SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'] as const;

/**
 * Gives `sslmode` its libpq meaning (as psql and psycopg read it): node-postgres treats
 * prefer/require/verify-ca as verify-full and warns on stderr unless `uselibpqcompat=true`.
 * Text that is not a URL comes back unchanged (validation reports it).
 */
export function withLibpqSslModes(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  const mode = parsed.searchParams.get('sslmode');
  if (mode === null || !['prefer', 'require', 'verify-ca'].includes(mode) || parsed.searchParams.has('uselibpqcompat'))
    return url;
  parsed.searchParams.set('uselibpqcompat', 'true');
  return parsed.toString();
}

/** Checks the TLS parameters of a PostgreSQL URL (node-postgres reads them itself). */
export function checkPgTls(url: string): void {
  const params = new URL(url).searchParams;
  const mode = params.get('sslmode');
  if (mode !== null && !(PG_SSL_MODES as readonly string[]).includes(mode)) {
    throw new Error(`sslmode=${mode} is not supported; use one of ${PG_SSL_MODES.join(', ')}`);
  }
  if (mode === 'verify-ca' && !params.get('sslrootcert'))
    throw new Error('sslmode=verify-ca needs the CA: add sslrootcert=/path/ca.pem');
  for (const name of ['sslrootcert', 'sslcert', 'sslkey']) {
    const path = params.get(name);
    if (path) readTlsFile(name, path);
  }
}
