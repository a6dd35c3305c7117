import type { TestProject } from 'vitest/node';
import { resolveTestServices } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    services: { mysqlUrl: string; databaseUrl: string; redisUrl: string; via: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { services, stop } = await resolveTestServices();
  project.provide('services', services);
  process.stderr.write(
    `test services (${services.via}): mysql ${services.mysqlUrl.replace(/:[^:@/]*@/, ':***@')}, postgres ${services.databaseUrl.replace(/:[^:@/]*@/, ':***@')}, redis ${services.redisUrl}\n`,
  );
  return stop;
}
