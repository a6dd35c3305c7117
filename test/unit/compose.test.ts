import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveBoardAccess } from '../../src/board/board-access.js';
import { buildProgram } from '../../src/cli/program.js';
import { CONFIG_ENV_VARS, loadConfig, type Service } from '../../src/config/config.js';

// No Docker engine runs here, so the compose file is checked against the code instead: every
// my2pg command and flag must parse with the real commander program, every variable must be
// one src/config/config.ts reads, and the URLs must point at the services the file defines.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean> | string[];
  ports?: string[];
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  restart?: string;
}

function readCompose(file: string): Record<string, ComposeService> {
  return (
    parse(readFileSync(`${ROOT}/${file}`, 'utf8'), { merge: true }) as { services: Record<string, ComposeService> }
  ).services;
}

/**
 * `docker compose -f base -f override`, as compose merges: new services are added, maps
 * (environment, depends_on) are merged key by key, anything else is replaced.
 */
function mergeCompose(
  base: Record<string, ComposeService>,
  override: Record<string, ComposeService>,
): Record<string, ComposeService> {
  const merged: Record<string, ComposeService> = structuredClone(base);
  for (const [name, extra] of Object.entries(override)) {
    const into = merged[name];
    if (!into) {
      merged[name] = extra;
      continue;
    }
    merged[name] = {
      ...into,
      ...extra,
      environment: { ...environmentOf(into), ...environmentOf(extra) },
      depends_on: { ...into.depends_on, ...extra.depends_on },
    };
  }
  return merged;
}

const services = readCompose('docker-compose.yml');
const withRedis = mergeCompose(services, readCompose('docker-compose.redis.yml'));

/** A program whose actions never run: only its commands and options are looked at. */
function program(): Command {
  const never = () => {
    throw new Error('not called');
  };
  return buildProgram({ startWorkers: never }, { exitCode: 0 });
}

function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env))
    return Object.fromEntries(env.map((kv) => [kv.split('=')[0] ?? '', kv.split('=').slice(1).join('=')]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

function findOption(options: readonly Option[], token: string): Option | undefined {
  return options.find((o) => o.long === token || o.short === token);
}

/**
 * Checks `args` (a compose `command`, i.e. what follows `node bin/my2pg.js`) with commander's
 * own definitions: the subcommand exists, each flag is one of its options or a global one,
 * values pass the option's parser or choices. Returns the subcommand and the parsed flags.
 */
function checkCommand(args: readonly string[]): { name: string; flags: Record<string, string | true> } {
  const root = program();
  const [name, ...rest] = args;
  const sub = root.commands.find((c) => c.name() === name);
  if (!sub)
    throw new Error(`"${name}" is not a my2pg command (known: ${root.commands.map((c) => c.name()).join(', ')})`);
  const flags: Record<string, string | true> = {};
  const operands: string[] = [];
  for (let i = 0; i < rest.length; i += 1) {
    const token = rest[i] as string;
    if (!token.startsWith('-')) {
      operands.push(token);
      continue;
    }
    const [flag, inline] = token.split('=', 2) as [string, string | undefined];
    const option = findOption(sub.options, flag) ?? findOption(root.options, flag);
    if (!option) throw new Error(`my2pg ${name} has no option ${flag}`);
    if (option.required || option.optional) {
      const value = inline ?? rest[(i += 1)];
      if (value === undefined) throw new Error(`my2pg ${name} ${flag} needs a value`);
      if (option.argChoices && !option.argChoices.includes(value))
        throw new Error(`my2pg ${name} ${flag}: ${value} is not one of ${option.argChoices.join(', ')}`);
      option.parseArg?.(value, undefined);
      flags[flag] = value;
    } else {
      flags[flag] = true;
    }
  }
  const declared = sub.registeredArguments.length;
  if (operands.length > declared)
    throw new Error(`my2pg ${name} takes ${declared} argument(s), got ${operands.join(' ')}`);
  return { name: name as string, flags };
}

const my2pgServices = Object.entries(services).filter(([, s]) => s.build !== undefined);

describe('docker-compose.yml', () => {
  it('the image runs bin/my2pg.js, so each compose command is a my2pg command line', () => {
    const dockerfile = readFileSync(`${ROOT}/Dockerfile`, 'utf8');
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/my2pg\.js"\]$/m);
    expect(dockerfile).toMatch(/^EXPOSE 3000$/m);
    expect(my2pgServices.map(([name]) => name).sort()).toEqual(['board', 'migrate', 'worker']);
  });

  it.each(my2pgServices)('service %s runs a real my2pg command with real options', (_name, service) => {
    expect(Array.isArray(service.command), 'command as an exec array').toBe(true);
    const { name } = checkCommand(service.command as string[]);
    expect(program().commands.some((c) => c.name() === name)).toBe(true);
  });

  it('the command check itself rejects unknown commands, flags and bad values', () => {
    expect(() => checkCommand(['wrker'])).toThrow(/not a my2pg command/);
    expect(() => checkCommand(['worker', '--concurency', '2'])).toThrow(/no option --concurency/);
    expect(() => checkCommand(['worker', '--concurrency', 'two'])).toThrow(/positive whole number/);
    expect(() => checkCommand(['board', '--log-level', 'loud'])).toThrow(/not one of/);
    expect(() => checkCommand(['worker', '--log-format', 'pretty'])).toThrow(/not one of/);
    expect(checkCommand(['resume', '--no-work', '--concurrency', '3']).flags).toEqual({
      '--no-work': true,
      '--concurrency': '3',
    });
    expect(checkCommand(['cancel', 'run-1', '--yes']).flags).toEqual({ '--yes': true });
    expect(() => checkCommand(['status', 'a', 'b'])).toThrow(/takes 1 argument/);
    expect(checkCommand(['board', '--log-level', 'debug', '--read-only']).flags).toEqual({
      '--log-level': 'debug',
      '--read-only': true,
    });
  });

  it.each(my2pgServices)('service %s sets only variables my2pg reads, and they load', (name, service) => {
    for (const [variant, env] of [
      ['docker-compose.yml', environmentOf(service)],
      ['with docker-compose.redis.yml', environmentOf(withRedis[name]!)],
    ] as const) {
      const unknown = Object.keys(env).filter((key) => !(CONFIG_ENV_VARS as readonly string[]).includes(key));
      expect(unknown, `variables of ${name} (${variant}) that src/config/config.ts does not read`).toEqual([]);
      const need: Service[] = name === 'board' ? ['queue'] : ['source', 'target', 'queue'];
      const config = loadConfig({}, need, env);
      // Alone, the file keeps the queue in the target database; the override moves it to Redis.
      if (variant === 'docker-compose.yml') {
        expect([config.queueBackend, config.redisUrl, config.queueSchema]).toEqual([
          'postgres',
          undefined,
          'my2pg_queue',
        ]);
      } else {
        expect([config.queueBackend, config.redisUrl]).toEqual(['redis', 'redis://redis:6379']);
      }
      // Container logs go to collectors: JSON, whatever a terminal would get.
      expect(config.logFormat).toBe('json');
    }
  });

  it('the URLs point at the compose services with their databases and passwords', () => {
    const env = environmentOf(services.migrate!);
    const mysqlEnv = environmentOf(services.mysql!);
    const pgEnv = environmentOf(services.postgres!);
    const mysqlUrl = new URL(env.MYSQL_URL!);
    expect([mysqlUrl.hostname, mysqlUrl.username, mysqlUrl.password, mysqlUrl.pathname]).toEqual([
      'mysql',
      'root',
      mysqlEnv.MYSQL_ROOT_PASSWORD,
      `/${mysqlEnv.MYSQL_DATABASE}`,
    ]);
    const pgUrl = new URL(env.DATABASE_URL!);
    expect([pgUrl.hostname, pgUrl.username, pgUrl.password, pgUrl.pathname]).toEqual([
      'postgres',
      'postgres',
      pgEnv.POSTGRES_PASSWORD,
      `/${pgEnv.POSTGRES_DB}`,
    ]);
    for (const [name] of my2pgServices) {
      expect(environmentOf(services[name]!).MY2PG_QUEUE_SCHEMA, `${name} shares the queue schema`).toBe(
        env.MY2PG_QUEUE_SCHEMA,
      );
      const redisEnv = environmentOf(withRedis[name]!);
      expect([redisEnv.REDIS_URL, redisEnv.MY2PG_QUEUE_PREFIX], `${name} shares the Redis and its prefix`).toEqual([
        'redis://redis:6379',
        'my2pg',
      ]);
    }
  });

  it('has MySQL 8 with the seed, PostgreSQL 16 with the alembic schema; Redis 7 with noeviction only in the Redis variant', () => {
    expect(services.mysql?.image).toMatch(/^mysql:8/);
    expect(services.postgres?.image).toMatch(/^postgres:16/);
    expect(services.redis, 'no Redis in docker-compose.yml').toBeUndefined();
    expect(withRedis.redis?.image).toMatch(/^redis:7/);
    const redisCommand = ((withRedis.redis?.command ?? []) as string[]).join(' ');
    expect(redisCommand).toMatch(/--maxmemory-policy noeviction/);
    for (const volume of [...(services.mysql?.volumes ?? []), ...(services.postgres?.volumes ?? [])]) {
      const hostPath = volume.split(':')[0]!;
      expect(existsSync(`${ROOT}/${hostPath}`), `${hostPath} exists`).toBe(true);
    }
    expect(services.mysql?.volumes?.join(' ')).toContain('fixtures/seed-app/mysql.sql');
    expect(services.postgres?.volumes?.join(' ')).toContain('fixtures/seed-app/postgres-alembic.sql');
  });

  it('runs two workers, the board on port 3000 behind basic auth, and a one-shot migrate', () => {
    expect(services.worker?.deploy?.replicas).toBe(2);
    expect(checkCommand(services.worker!.command as string[]).name).toBe('worker');

    const board = checkCommand(services.board!.command as string[]);
    expect(board.name).toBe('board');
    expect(board.flags['--port']).toBe('3000');
    expect(services.board?.ports?.some((p) => p.endsWith(':3000'))).toBe(true);
    const boardEnv = environmentOf(services.board!);
    // Listening on every interface is refused without credentials; the file must carry them.
    expect(() =>
      resolveBoardAccess(String(board.flags['--host']), boardEnv.BOARD_USER, boardEnv.BOARD_PASSWORD),
    ).not.toThrow();
    expect(() => resolveBoardAccess(String(board.flags['--host']), undefined, undefined)).toThrow(/refusing/);

    const migrate = checkCommand(services.migrate!.command as string[]);
    expect(migrate).toEqual({ name: 'start', flags: { '--wait': true } });
    expect(services.migrate?.restart).toBe('no');
    for (const [stack, dependencies] of [
      [services, ['mysql', 'postgres']],
      [withRedis, ['mysql', 'postgres', 'redis']],
    ] as const) {
      for (const dependency of dependencies) {
        expect(stack.migrate?.depends_on?.[dependency]?.condition, `migrate waits for ${dependency}`).toBe(
          'service_healthy',
        );
        expect(stack.worker?.depends_on?.[dependency]?.condition, `worker waits for ${dependency}`).toBe(
          'service_healthy',
        );
      }
      // The board reads the queue: in the target, or in Redis.
      const queueService = stack === services ? 'postgres' : 'redis';
      expect(stack.board?.depends_on?.[queueService]?.condition).toBe('service_healthy');
    }
    expect(Object.keys(services.migrate?.depends_on ?? {})).not.toContain('redis');
  });
});

describe('CONFIG_ENV_VARS', () => {
  it('lists exactly the variables src/config/config.ts and environment.ts read', () => {
    const source = ['config.ts', 'environment.ts']
      .map((file) => readFileSync(`${ROOT}/src/config/${file}`, 'utf8'))
      .join('\n');
    const read = [...new Set([...source.matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]))].sort();
    expect([...CONFIG_ENV_VARS].sort()).toEqual(read);
  });
});
