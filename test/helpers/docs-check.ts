import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { checkCommandLine, cliProgram, optionsOf } from './cli-lines.js';
import { codeBlocks, codeSpans, firstCells, headings, links, sections, shellWords } from './markdown.js';

// What keeps the docs true: every command line and option they name exists in the CLI, every
// option of the CLI is in docs/commands.md, every relative link resolves, every variable exists.
// Each check returns its problems as sentences (`file:line: …`), all at once; [] means true.

/** A Markdown file: its path relative to the repository, and its text. */
export interface Doc {
  path: string;
  text: string;
}

/** Where a command line starts: `npx my2pg` anywhere, or a code span that begins with `my2pg `. */
const NPX = /\bnpx my2pg(?=\s|$)/g;

/** The words of a command line written in prose or a sample, up to where the sentence goes on. */
function commandWords(rest: string): string[] {
  const words: string[] = [];
  for (const word of shellWords(rest)) {
    if (/^[(|&;]|^(or|and|then)$/.test(word)) break;
    const trimmed = word.replace(/[),;.:]+$/, '');
    if (trimmed !== word) {
      if (trimmed !== '') words.push(trimmed);
      break;
    }
    words.push(word);
  }
  return words;
}

/** Every `my2pg …` command line a doc writes, as words after `my2pg`, with its line. */
function commandLines(doc: Doc): { words: string[]; line: number }[] {
  const out: { words: string[]; line: number }[] = [];
  const fromText = (text: string, line: number, spanStart: boolean) => {
    if (spanStart && /^my2pg\s/.test(text)) out.push({ words: commandWords(text.slice('my2pg'.length)), line });
    for (const m of text.matchAll(NPX))
      out.push({ words: commandWords(text.slice((m.index ?? 0) + m[0].length)), line });
  };
  for (const span of codeSpans(doc.text)) fromText(span.code, span.line, true);
  for (const block of codeBlocks(doc.text)) {
    block.lines.forEach((text, i) => {
      fromText(text.replace(/^\$\s+/, ''), block.line + 1 + i, false);
    });
  }
  return out;
}

/** Each command line must parse with the real program: the command, its flags, its operands. */
export function commandLineProblems(doc: Doc): string[] {
  const problems: string[] = [];
  for (const { words, line } of commandLines(doc)) {
    try {
      checkCommandLine(words, { values: false });
    } catch (error) {
      problems.push(`${doc.path}:${line}: my2pg ${words.join(' ')}: ${(error as Error).message}`);
    }
  }
  return problems;
}

/** A code span that is a flag alone (`--tables <names>`, `--verify count`, `--work`): it names a my2pg option. */
function bareFlags(doc: Doc): { flag: string; line: number }[] {
  return codeSpans(doc.text)
    .map(({ code, line }) => ({ flag: /^(--[a-z][a-z0-9-]*)(?:[ =].*)?$/.exec(code)?.[1], line }))
    .filter((f): f is { flag: string; line: number } => f.flag !== undefined);
}

/** A flag written alone in code must be an option of some my2pg command (or a global one). */
export function bareFlagProblems(doc: Doc): string[] {
  const root = cliProgram();
  const known = new Set([...root.commands.flatMap((c) => [...optionsOf(root, c)])]);
  return bareFlags(doc)
    .filter(({ flag }) => !known.has(flag))
    .map(({ flag, line }) => `${doc.path}:${line}: ${flag} is no option of any my2pg command`);
}

/** The commands a `##` heading of docs/commands.md is about: its code spans that name one. */
function commandsOfHeading(root: Command, heading: string): Command[] {
  const names = [...heading.matchAll(/`([^`]+)`/g)].map((m) => (m[1] as string).split(/\s+/)[0]);
  return root.commands.filter((c) => names.includes(c.name()));
}

/** Options declared by a section's tables: the flags in the first cell of each row. */
function declaredOptions(body: string): { flag: string; line: number }[] {
  return firstCells(body).flatMap(({ cell, line }) =>
    [...cell.matchAll(/`(--[a-z][a-z0-9-]*)/g)].map((m) => ({ flag: m[1] as string, line })),
  );
}

/**
 * docs/commands.md against the program. Each `##` section names its commands in its heading
 * (`` ## `retry [runId]` ``, `` ## Options of `run`, `start` and `plan` ``), or is
 * `## Global options`; the flags in the first column of its tables are declared for them. A
 * declared flag must be an option of each of them; every option of every command must be
 * declared in a section about that command, and every global option under Global options.
 */
export function commandsPageProblems(doc: Doc): string[] {
  const root = cliProgram();
  const problems: string[] = [];
  const documented = new Map<string, Set<string>>(root.commands.map((c) => [c.name(), new Set<string>()]));
  const globalDocumented = new Set<string>();
  const lineOf = (sectionLine: number, bodyLine: number) => sectionLine + bodyLine;
  for (const { heading, body } of sections(doc.text)) {
    const declared = declaredOptions(body);
    if (/^global options$/i.test(heading.text)) {
      const globals = new Set(root.options.map((o) => o.long));
      for (const { flag, line } of declared) {
        if (!globals.has(flag))
          problems.push(`${doc.path}:${lineOf(heading.line, line)}: ${flag} is not a global option of my2pg`);
        globalDocumented.add(flag);
      }
      continue;
    }
    const commands = commandsOfHeading(root, heading.text);
    if (commands.length === 0) continue;
    for (const command of commands) {
      const known = optionsOf(root, command);
      for (const { flag, line } of declared) {
        if (!known.has(flag))
          problems.push(`${doc.path}:${lineOf(heading.line, line)}: my2pg ${command.name()} has no option ${flag}`);
        else documented.get(command.name())?.add(flag);
      }
    }
  }
  for (const command of root.commands) {
    if (command.name() === 'help') continue;
    const seen = documented.get(command.name()) ?? new Set<string>();
    for (const option of command.options) {
      if (option.long && !seen.has(option.long))
        problems.push(`${doc.path}: my2pg ${command.name()} ${option.long} is not documented in an options table`);
    }
    if (!headings(doc.text).some((h) => commandsOfHeading(root, h.text).includes(command)))
      problems.push(`${doc.path}: my2pg ${command.name()} has no section`);
  }
  for (const option of root.options) {
    if (option.long && !globalDocumented.has(option.long))
      problems.push(`${doc.path}: the global option ${option.long} is not documented under "Global options"`);
  }
  return problems;
}

/** Every relative link (and image) must reach a file, and its `#anchor` a heading of it. */
export function linkProblems(root: string, doc: Doc): string[] {
  const problems: string[] = [];
  for (const { target, line } of links(doc.text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    const [pathPart = '', anchor] = target.split('#', 2) as [string, string | undefined];
    const file = pathPart === '' ? resolve(root, doc.path) : resolve(dirname(resolve(root, doc.path)), pathPart);
    const shown = relative(root, file);
    if (!existsSync(file)) {
      problems.push(`${doc.path}:${line}: ${target}: no file ${shown}`);
      continue;
    }
    if (anchor === undefined || anchor === '') continue;
    if (!file.endsWith('.md')) {
      problems.push(`${doc.path}:${line}: ${target}: an anchor into ${shown}, which is not Markdown`);
      continue;
    }
    const anchors = headings(readFileSync(file, 'utf8')).map((h) => h.anchor);
    if (!anchors.includes(anchor)) problems.push(`${doc.path}:${line}: ${target}: ${shown} has no heading #${anchor}`);
  }
  return problems;
}

/**
 * Every `MY2PG_…` variable a doc names must be one my2pg reads (`known`: src/config's list), or
 * one the tests or the benchmark read (`elsewhere`: their source text).
 */
export function variableProblems(doc: Doc, known: readonly string[], elsewhere: string): string[] {
  const problems: string[] = [];
  doc.text.split('\n').forEach((text, i) => {
    for (const m of text.matchAll(/\bMY2PG_[A-Z0-9_]*[A-Z0-9]\b/g)) {
      const name = m[0];
      if (known.includes(name) || new RegExp(`\\b${name}\\b`).test(elsewhere)) continue;
      problems.push(`${doc.path}:${i + 1}: ${name} is read neither by src/config nor by the tests or the benchmark`);
    }
  });
  return problems;
}
