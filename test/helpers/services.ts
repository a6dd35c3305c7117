import { existsSync } from 'node:fs';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { Redis } from 'ioredis';

export interface TestServices {
  mysqlUrl: string;
  databaseUrl: string;
  redisUrl: string;
  via: string;
}

const LOCAL = {
  mysqlUrl: 'mysql://root@127.0.0.1:3306/',
  databaseUrl: 'postgresql://postgres@127.0.0.1:5432/postgres',
  redisUrl: 'redis://127.0.0.1:6379',
};

async function reachable(s: Omit<TestServices, 'via'>): Promise<string[]> {
  const problems: string[] = [];
  try {
    const c = await mysql.createConnection({ uri: s.mysqlUrl, connectTimeout: 3000 });
    await c.end();
  } catch (e) {
    problems.push(`MySQL ${s.mysqlUrl}: ${(e as Error).message}`);
  }
  try {
    const c = new pg.Client({ connectionString: s.databaseUrl, connectionTimeoutMillis: 3000 });
    await c.connect();
    await c.end();
  } catch (e) {
    problems.push(`PostgreSQL ${s.databaseUrl}: ${(e as Error).message}`);
  }
  const r = new Redis(s.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3000,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    problems.push(`Redis ${s.redisUrl}: ${(e as Error).message}`);
  } finally {
    r.disconnect();
  }
  return problems;
}

function dockerAnswers(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}

/**
 * Finds MySQL, PostgreSQL and Redis for the tests: MY2PG_TEST_* variables, else containers
 * where a Docker engine answers, else the local defaults; fails saying how to provide them.
 */
export async function resolveTestServices(): Promise<{ services: TestServices; stop: () => Promise<void> }> {
  const env = process.env;
  if (env.MY2PG_TEST_MYSQL_URL && env.MY2PG_TEST_DATABASE_URL && env.MY2PG_TEST_REDIS_URL) {
    const s = {
      mysqlUrl: env.MY2PG_TEST_MYSQL_URL,
      databaseUrl: env.MY2PG_TEST_DATABASE_URL,
      redisUrl: env.MY2PG_TEST_REDIS_URL,
    };
    const problems = await reachable(s);
    if (problems.length > 0) throw new Error(`MY2PG_TEST_* services unreachable: ${problems.join('; ')}`);
    return { services: { ...s, via: 'MY2PG_TEST_* variables' }, stop: async () => undefined };
  }
  if (dockerAnswers()) {
    try {
      const { GenericContainer, Wait } = await import('testcontainers');
      const [my, pgc, rc] = await Promise.all([
        new GenericContainer('mariadb:10.11')
          .withEnvironment({ MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1' })
          .withExposedPorts(3306)
          .withWaitStrategy(Wait.forLogMessage(/ready for connections/, 2))
          .start(),
        new GenericContainer('postgres:16')
          .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
          .withExposedPorts(5432)
          .withWaitStrategy(Wait.forLogMessage(/ready to accept connections/, 2))
          .start(),
        new GenericContainer('redis:7').withExposedPorts(6379).start(),
      ]);
      const s = {
        mysqlUrl: `mysql://root@${my.getHost()}:${my.getMappedPort(3306)}/`,
        databaseUrl: `postgresql://postgres@${pgc.getHost()}:${pgc.getMappedPort(5432)}/postgres`,
        redisUrl: `redis://${rc.getHost()}:${rc.getMappedPort(6379)}`,
      };
      return {
        services: { ...s, via: 'testcontainers' },
        stop: async () => {
          await Promise.allSettled([my.stop(), pgc.stop(), rc.stop()]);
        },
      };
    } catch (error) {
      process.stderr.write(
        `testcontainers could not start the services (${(error as Error).message}); trying the local defaults\n`,
      );
    }
  }
  const problems = await reachable(LOCAL);
  if (problems.length > 0) {
    throw new Error(
      `no test services: ${problems.join('; ')}. Set MY2PG_TEST_MYSQL_URL, MY2PG_TEST_DATABASE_URL and MY2PG_TEST_REDIS_URL, run a Docker engine for testcontainers, or start MySQL/MariaDB, PostgreSQL and Redis locally on their default ports.`,
    );
  }
  return { services: { ...LOCAL, via: 'local defaults' }, stop: async () => undefined };
}

/** The queue backend the tests run on: MY2PG_TEST_QUEUE, else the product's default (postgres). */
export function testQueueBackend(): 'postgres' | 'redis' {
  const chosen = process.env.MY2PG_TEST_QUEUE?.trim() || 'postgres';
  if (chosen !== 'postgres' && chosen !== 'redis')
    throw new Error(`MY2PG_TEST_QUEUE must be postgres or redis, got ${JSON.stringify(chosen)}`);
  return chosen;
}
