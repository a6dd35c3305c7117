import { readFileSync } from 'node:fs';

/** Reads a certificate or key file named by a URL parameter; a plain Error says which one failed. */
export function readTlsFile(param: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read the file of ${param} (${path}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}
