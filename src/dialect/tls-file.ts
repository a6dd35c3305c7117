import { readFileSync } from 'node:fs';

/**
 * Reads a certificate or key file named by a URL parameter; a plain Error says which one failed
 * and how to fix it. Every process reads the files itself at start (configuration), so a worker
 * on a host without them stops there (exit 2), not in the middle of a job.
 */
export function readTlsFile(param: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read the file of ${param} (${path}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; every host that runs my2pg (each worker too) reads it from its own disk: copy the file to ${path} on this host, or set ${param} to where it is here`,
    );
  }
}
