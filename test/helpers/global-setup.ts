import type { TestProject } from 'vitest/node';
import { resolveTestServices, testQueueBackend } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    services: { mysqlUrl: string; databaseUrl: string; redisUrl: string; via: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // A bad MY2PG_TEST_QUEUE stops the run here, before any test.
  const queue = testQueueBackend();
  const { services, stop } = await resolveTestServices();
  project.provide('services', services);
  process.stderr.write(
    `test services (${services.via}): mysql ${services.mysqlUrl.replace(/:[^:@/]*@/, ':***@')}, postgres ${services.databaseUrl.replace(/:[^:@/]*@/, ':***@')}, redis ${services.redisUrl}; the queue in ${queue === 'redis' ? 'Redis' : 'the PostgreSQL target'} (MY2PG_TEST_QUEUE=${queue})\n`,
  );
  return stop;
}
