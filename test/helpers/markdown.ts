// A small reader of the docs' Markdown, enough to check what they name: headings and their
// GitHub anchors, links, code spans and code blocks, tables. Pure: text in, facts out.

/** A fenced code block: its lines (backslash continuations joined). */
export interface CodeBlock {
  lang: string;
  lines: string[];
  /** 1-based line of the opening fence. */
  line: number;
}

/** Prose lines (outside fenced blocks) with their 1-based numbers. */
function proseLines(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let fenced = false;
  text.split('\n').forEach((line, i) => {
    if (/^\s*```/.test(line)) fenced = !fenced;
    else if (!fenced) out.push({ text: line, line: i + 1 });
  });
  return out;
}

export function codeBlocks(text: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let current: CodeBlock | undefined;
  text.split('\n').forEach((line, i) => {
    const fence = /^\s*```\s*(\S*)/.exec(line);
    if (fence) {
      if (current) {
        blocks.push(current);
        current = undefined;
      } else current = { lang: fence[1] ?? '', lines: [], line: i + 1 };
    } else if (current) {
      const previous = current.lines.at(-1);
      if (previous?.endsWith('\\')) current.lines[current.lines.length - 1] = `${previous.slice(0, -1)} ${line.trim()}`;
      else current.lines.push(line);
    }
  });
  return blocks;
}

/** Inline code spans of the prose (`` `x` `` and ``` `` a ` b `` ```). */
export function codeSpans(text: string): { code: string; line: number }[] {
  const spans: { code: string; line: number }[] = [];
  for (const { text: line, line: n } of proseLines(text)) {
    for (const m of line.matchAll(/(`+)(.+?)\1(?!`)/g)) spans.push({ code: (m[2] as string).trim(), line: n });
  }
  return spans;
}

/** The prose with code spans removed: where links and names outside code are looked for. */
function withoutCode(line: string): string {
  return line.replace(/(`+)(.+?)\1(?!`)/g, '');
}

/** GitHub's anchor for a heading's text (github-slugger): lower case, punctuation dropped, spaces to `-`. */
export function githubSlug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .replace(/\*\*|__/g, '');
  return rendered
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
    .replace(/ /g, '-');
}

export interface Heading {
  level: number;
  text: string;
  anchor: string;
  line: number;
}

/** Every heading of the prose with the anchor GitHub gives it (repeats get `-1`, `-2`, …). */
export function headings(text: string): Heading[] {
  const seen = new Map<string, number>();
  const out: Heading[] = [];
  for (const { text: line, line: n } of proseLines(text)) {
    const m = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = githubSlug(m[2] as string);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    out.push({
      level: (m[1] as string).length,
      text: m[2] as string,
      anchor: count === 0 ? base : `${base}-${count}`,
      line: n,
    });
  }
  return out;
}

/** Links and images of the prose: `[text](target)`, with their lines. */
export function links(text: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  for (const { text: line, line: n } of proseLines(text)) {
    for (const m of withoutCode(line).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g))
      out.push({ target: m[1] as string, line: n });
  }
  return out;
}

/** The text of each `##` section (up to the next heading of level 2 or less), keyed by its heading. */
export function sections(text: string, level = 2): { heading: Heading; body: string }[] {
  const all = headings(text);
  const lines = text.split('\n');
  const out: { heading: Heading; body: string }[] = [];
  all.forEach((heading, i) => {
    if (heading.level !== level) return;
    const next = all.slice(i + 1).find((h) => h.level <= level);
    out.push({ heading, body: lines.slice(heading.line, next ? next.line - 1 : lines.length).join('\n') });
  });
  return out;
}

/** The first cell of each table row of the prose (header and separator rows left out). */
export function firstCells(text: string): { cell: string; line: number }[] {
  const out: { cell: string; line: number }[] = [];
  const prose = proseLines(text);
  prose.forEach(({ text: line, line: n }, i) => {
    if (!line.startsWith('|')) return;
    if (/^\|[\s:|-]+\|?\s*$/.test(line)) return;
    const next = prose[i + 1]?.text ?? '';
    if (/^\|[\s:|-]+\|?\s*$/.test(next)) return; // a header row
    const cell = /^\|((?:[^|\\`]|\\.|`[^`]*`)*)\|/.exec(line)?.[1];
    if (cell !== undefined) out.push({ cell: cell.trim(), line: n });
  });
  return out;
}

/** Splits a command line as a shell would (quotes kept together, removed), up to a comment. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  let started = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) words.push(word);
      word = '';
      started = false;
    } else if (ch === '#' && !started) {
      break;
    } else {
      word += ch;
      started = true;
    }
  }
  if (started) words.push(word);
  return words;
}
