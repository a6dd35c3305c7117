import { UnrecoverableError } from 'bullmq';
import type { z } from 'zod';

/** Parses a job's data; a payload that does not match fails the job for good, saying why. */
export function validatePayload<T>(schema: z.ZodType<T>, data: unknown, jobName: string): T {
  const result = schema.safeParse(data);
  if (!result.success) {
    const why = result.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ');
    throw new UnrecoverableError(`${jobName}: invalid job payload (${why}); this job was not made by my2pg start`);
  }
  return result.data;
}
