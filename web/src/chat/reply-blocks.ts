/**
 * A reply's text -> the blocks the page shows: paragraphs, a short title line, numbered steps,
 * bullet lists and safety warnings set apart. Replies are plain text (the knowledge base's
 * approaches, or a model told to write numbered steps and to warn before them), so this reads
 * the marks they use, never HTML. Pure.
 */

/** A run of text, bold where the reply wrote **bold**. */
export interface Inline {
  text: string;
  strong?: true;
}

export type ReplyBlock =
  | { kind: 'paragraph'; inlines: Inline[] }
  | { kind: 'heading'; inlines: Inline[] }
  | { kind: 'warning'; inlines: Inline[] }
  | { kind: 'steps'; start: number; items: Inline[][] }
  | { kind: 'bullets'; items: Inline[][] };

const STEP = /^\s*(\d{1,3})[.)]\s+(.*)$/;
const BULLET = /^\s*[-*•]\s+(.*)$/;
const MARKDOWN_HEADING = /^\s*#{1,6}\s+(.*)$/;
/** "Atenção: ...", "**Cuidado:** ...", "⚠️ Segurança - ...", "Enquanto isso, por segurança: ...". */
const WARNING =
  /^(?:[\s*_!]|⚠\uFE0F?)*(aten[cç][aã]o|cuidado|seguran[cç]a|aviso|importante|perigo)\b[^\n]{0,24}?[:\-–—]|^[^\n]{0,40}\bpor seguran[cç]a\s*[:,]/iu;
/** A line that reads as a title: short, one line, no closing punctuation. */
const TITLE_MAX = 100;

/** **bold** runs; an unmatched ** stays as written. */
export function inlines(text: string): Inline[] {
  const runs: Inline[] = [];
  const pattern = /\*\*(?=\S)(.+?)(?<=\S)\*\*/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) runs.push({ text: text.slice(last, match.index) });
    runs.push({ text: match[1] as string, strong: true });
    last = match.index + match[0].length;
  }
  if (last < text.length) runs.push({ text: text.slice(last) });
  return runs.length > 0 ? runs : [{ text: '' }];
}

/** The paragraph's lines joined as one text (a reply wraps long sentences in its own lines). */
const joined = (lines: string[]) => lines.map((line) => line.trim()).join(' ');

export function replyBlocks(reply: string): ReplyBlock[] {
  const blocks: ReplyBlock[] = [];
  const paragraphs = reply
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.split('\n').filter((line) => line.trim() !== ''))
    .filter((lines) => lines.length > 0);

  for (const lines of paragraphs) {
    const first = lines[0] as string;
    if (WARNING.test(first) && !STEP.test(first) && !BULLET.test(first)) {
      blocks.push({ kind: 'warning', inlines: inlines(joined(lines)) });
      continue;
    }
    let text: string[] = [];
    const flushText = () => {
      if (text.length > 0) blocks.push(textBlock(text));
      text = [];
    };
    for (const line of lines) {
      const step = STEP.exec(line);
      const bullet = BULLET.exec(line);
      const heading = MARKDOWN_HEADING.exec(line);
      const previous = blocks.at(-1);
      if (step) {
        flushText();
        const number = Number(step[1]);
        const item = inlines((step[2] as string).trim());
        if (previous?.kind === 'steps' && number === previous.start + previous.items.length) {
          previous.items.push(item);
        } else {
          blocks.push({ kind: 'steps', start: number, items: [item] });
        }
      } else if (bullet) {
        flushText();
        const item = inlines((bullet[1] as string).trim());
        if (previous?.kind === 'bullets' && text.length === 0) previous.items.push(item);
        else blocks.push({ kind: 'bullets', items: [item] });
      } else if (heading) {
        flushText();
        blocks.push({ kind: 'heading', inlines: inlines((heading[1] as string).trim()) });
      } else if (text.length === 0 && /^\s{2,}\S/.test(line) && isList(previous)) {
        // An indented line under a step or bullet continues that item.
        const items = (previous as { items: Inline[][] }).items;
        const item = items.at(-1) as Inline[];
        items[items.length - 1] = [...item, { text: ` ${line.trim()}` }];
      } else {
        text.push(line);
      }
    }
    flushText();
  }
  return markTitles(blocks);
}

function isList(block: ReplyBlock | undefined): boolean {
  return block?.kind === 'steps' || block?.kind === 'bullets';
}

function textBlock(lines: string[]): ReplyBlock {
  return { kind: 'paragraph', inlines: inlines(joined(lines)) };
}

/** A one-line paragraph without closing punctuation, followed by more text, is a title
 * ("Torneira pingando: Trocar o courinho"). */
function markTitles(blocks: ReplyBlock[]): ReplyBlock[] {
  return blocks.map((block, index) => {
    if (block.kind !== 'paragraph' || index === blocks.length - 1) return block;
    const text = block.inlines.map((run) => run.text).join('');
    const title = text.length <= TITLE_MAX && !/[.!?;,:…]$/.test(text.trim());
    return title ? { kind: 'heading', inlines: block.inlines } : block;
  });
}

/** The plain text of a list of runs (for labels and announcements). */
export const plainText = (runs: Inline[]): string => runs.map((run) => run.text).join('');
