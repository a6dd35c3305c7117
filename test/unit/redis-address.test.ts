import { describe, expect, it } from 'vitest';
import { parseRedisAddress } from '../../src/queue/connection.js';

describe('parseRedisAddress: what REDIS_URL names', () => {
  it.each([
    ['redis://127.0.0.1:6379', { kind: 'single' }],
    ['rediss://u:p@cache.example:6380/2', { kind: 'single' }],
    ['redis://a:7001/?cluster', { kind: 'cluster', nodes: [{ host: 'a', port: 7001 }] }],
    [
      'redis://u:p@a:7001/?cluster&seeds=b:7002,c',
      {
        kind: 'cluster',
        nodes: [
          { host: 'a', port: 7001 },
          { host: 'b', port: 7002 },
          { host: 'c', port: 7001 },
        ],
      },
    ],
    ['redis://s1/?sentinel=mymaster', { kind: 'sentinel', name: 'mymaster', sentinels: [{ host: 's1', port: 26379 }] }],
    [
      'redis://s1:26380?sentinel=main&seeds=s2:26381',
      {
        kind: 'sentinel',
        name: 'main',
        sentinels: [
          { host: 's1', port: 26380 },
          { host: 's2', port: 26381 },
        ],
      },
    ],
  ])('%s', (url, expected) => {
    expect(parseRedisAddress(url)).toEqual(expected);
  });
});
