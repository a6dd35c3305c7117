import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { UsageError } from '../core/errors.js';

/** Basic-auth credentials of the board. */
export interface BoardCredentials {
  user: string;
  password: string;
}

/** True for names and addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Decides how the board is protected: basic auth when BOARD_USER and BOARD_PASSWORD are both
 * set; none on a loopback host; a UsageError (exit 2) for anything else, because an open board
 * lets whoever reaches it retry, remove or add jobs.
 */
export function resolveBoardAccess(
  host: string,
  user: string | undefined,
  password: string | undefined,
): BoardCredentials | undefined {
  if ((user === undefined) !== (password === undefined)) {
    throw new UsageError(
      `board: set both BOARD_USER and BOARD_PASSWORD (only ${user === undefined ? 'BOARD_PASSWORD' : 'BOARD_USER'} is set)`,
    );
  }
  if (user !== undefined && password !== undefined) return { user, password };
  if (!isLoopbackHost(host)) {
    throw new UsageError(
      `board: refusing to listen on ${host} without authentication; set BOARD_USER and BOARD_PASSWORD, or use --host 127.0.0.1`,
    );
  }
  return undefined;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Express middleware answering 401 unless the request carries the board's basic-auth credentials. */
export function basicAuth(credentials: BoardCredentials) {
  // Compare fixed-length digests so neither the length nor the content leaks through timing.
  const expectedUser = digest(credentials.user);
  const expectedPassword = digest(credentials.password);
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (match?.[1]) {
      const decoded = Buffer.from(match[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) {
        const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), expectedUser);
        const passwordOk = timingSafeEqual(digest(decoded.slice(colon + 1)), expectedPassword);
        if (userOk && passwordOk) {
          next();
          return;
        }
      }
    }
    res.set('WWW-Authenticate', 'Basic realm="my2pg board", charset="UTF-8"');
    res.status(401).type('text/plain').send('my2pg board: sign in with BOARD_USER and BOARD_PASSWORD\n');
  };
}
