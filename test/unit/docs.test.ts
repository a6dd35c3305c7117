import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV_VARS } from '../../src/config/config.js';
import {
  bareFlagProblems,
  commandLineProblems,
  commandsPageProblems,
  type Doc,
  linkProblems,
  variableProblems,
} from '../helpers/docs-check.js';
import { githubSlug, headings } from '../helpers/markdown.js';

// The docs name commands, options, variables and each other; this keeps every such name true
// (checked against the commander program and src/config, as the compose test does for
// docker-compose.yml), and the README short enough to read in ten minutes.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function read(path: string): Doc {
  return { path, text: readFileSync(`${ROOT}/${path}`, 'utf8') };
}

/** Every Markdown page a reader reaches: the README, CONTRIBUTING and docs/ (what exists now). */
const docs: Doc[] = [
  read('README.md'),
  read('CONTRIBUTING.md'),
  ...readdirSync(`${ROOT}/docs`)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => read(`docs/${f}`)),
];
/** The benchmark's page names the benchmark's own flags (`--rounds`), not my2pg's. */
const my2pgPages = docs.filter((d) => d.path !== 'docs/benchmarks.md');

/** Source text of the tests and the benchmark: the variables they read may be named in the docs. */
function sourceText(dir: string): string {
  return readdirSync(`${ROOT}/${dir}`, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|mjs)$/.test(f))
    .map((f) => readFileSync(`${ROOT}/${dir}/${f}`, 'utf8'))
    .join('\n');
}

describe('the docs', () => {
  it('README.md is at most 250 lines', () => {
    const lines = read('README.md').text.trimEnd().split('\n').length;
    expect(lines).toBeLessThanOrEqual(250);
  });

  it('keeps the test command .ci/run runs, in the README', () => {
    const ci = readFileSync(`${ROOT}/.ci/run`, 'utf8');
    const command = ci.trimEnd().split('\n').at(-1);
    expect(read('README.md').text).toContain(`\`\`\`sh\n${command}\n\`\`\``);
  });

  it('every my2pg command line they write parses with the real program', () => {
    expect(docs.flatMap(commandLineProblems)).toEqual([]);
  });

  it('every option they write in code alone is an option of some command', () => {
    expect(my2pgPages.flatMap(bareFlagProblems)).toEqual([]);
  });

  it('docs/commands.md documents every command and option, and only real ones', () => {
    expect(commandsPageProblems(read('docs/commands.md'))).toEqual([]);
  });

  it('every relative link resolves, to the file and to the heading', () => {
    expect(docs.flatMap((doc) => linkProblems(ROOT, doc))).toEqual([]);
  });

  it('every MY2PG_ variable they name is one my2pg (or its tests, or the benchmark) reads', () => {
    const elsewhere = `${sourceText('test')}\n${sourceText('bench')}`;
    expect(docs.flatMap((doc) => variableProblems(doc, CONFIG_ENV_VARS, elsewhere))).toEqual([]);
  });

  it('every variable src/config reads is documented somewhere in docs/', () => {
    const all = docs.map((d) => d.text).join('\n');
    expect(CONFIG_ENV_VARS.filter((name) => !new RegExp(`\\b${name}\\b`).test(all))).toEqual([]);
  });
});

describe('the docs checks themselves', () => {
  const doc = (text: string): Doc => ({ path: 'x.md', text });

  it('catch an unknown command, option or operand in a command line', () => {
    expect(commandLineProblems(doc('Run `npx my2pg retry RUN_ID --tabel users --wait`.'))).toEqual([
      'x.md:1: my2pg retry RUN_ID --tabel users --wait: my2pg retry has no option --tabel',
    ]);
    expect(commandLineProblems(doc('```sh\nnpx my2pg wrker   # start one\n```'))[0]).toMatch(/not a my2pg command/);
    expect(commandLineProblems(doc('`my2pg status a b`'))[0]).toMatch(/takes 1 argument/);
    expect(
      commandLineProblems(
        doc(
          "```\nnpx my2pg run --type 'bigint unsigned=numeric' \\\n  --column-type users.bio=text --enum check\n```\n" +
            'Finish it with: `npx my2pg --target postgresql://… resume run-1`, or (`npx my2pg status run-1`), or so.\n' +
            '`my2pg worker: ready (concurrency 2)`',
        ),
      ),
    ).toEqual([]);
  });

  it('catch a flag no command has', () => {
    expect(bareFlagProblems(doc('Use `--concurency 4` or `--work`.'))).toEqual([
      'x.md:1: --concurency is no option of any my2pg command',
    ]);
  });

  it('catch an options table naming a flag its command lacks, and an option left out', () => {
    const problems = commandsPageProblems(
      doc('## `worker`\n\n| Option | Meaning |\n| - | - |\n| `--concurency <n>` | x |\n'),
    );
    expect(problems).toContain('x.md:5: my2pg worker has no option --concurency');
    expect(problems).toContain('x.md: my2pg worker --concurrency is not documented in an options table');
    expect(problems).toContain('x.md: my2pg cutover has no section');
    expect(problems).toContain('x.md: the global option --source is not documented under "Global options"');
  });

  it('catch a link to a missing file or heading', () => {
    expect(linkProblems(ROOT, doc('[a](docs/nope.md) [b](README.md#no-such-heading) [c](https://x.org/#y)'))).toEqual([
      'x.md:1: docs/nope.md: no file docs/nope.md',
      'x.md:1: README.md#no-such-heading: README.md has no heading #no-such-heading',
    ]);
  });

  it('catch a variable nobody reads', () => {
    expect(variableProblems(doc('Set MY2PG_SCHEMA or MY2PG_SHEMA.'), CONFIG_ENV_VARS, '')).toEqual([
      'x.md:1: MY2PG_SHEMA is read neither by src/config nor by the tests or the benchmark',
    ]);
  });

  it('give headings the anchors GitHub gives them', () => {
    expect(githubSlug('`plan --json`')).toBe('plan---json');
    expect(githubSlug('What happens when…')).toBe('what-happens-when');
    expect(githubSlug('ON UPDATE CURRENT_TIMESTAMP')).toBe('on-update-current_timestamp');
    expect(githubSlug('Interrupting, resuming, cancelling')).toBe('interrupting-resuming-cancelling');
    expect(headings('# A\n## B\n## B\n```\n# not a heading\n```\n').map((h) => h.anchor)).toEqual(['a', 'b', 'b-1']);
  });
});
