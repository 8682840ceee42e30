/**
 * The offline knowledge base: one markdown file per repair, with keywords, the professional
 * to call, an optional safety warning and numbered approaches ("## Tentativa N: ...").
 */

import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KNOWLEDGE_FILE_PROBLEMS } from '../texts/config.js';

export interface Approach {
  readonly title: string;
  readonly body: string;
}

export interface KnowledgeDoc {
  /** File name without `.md`. */
  readonly id: string;
  readonly title: string;
  readonly keywords: readonly string[];
  readonly professional: string;
  readonly safety: string | undefined;
  readonly approaches: readonly Approach[];
}

/** `knowledge/` at the package root, from `src/agent` as from `dist/agent`. */
export const DEFAULT_KNOWLEDGE_DIR = fileURLToPath(new URL('../../knowledge/', import.meta.url));

export class KnowledgeFormatError extends Error {
  readonly code = 'ERR_KNOWLEDGE_FORMAT';
  override name = 'KnowledgeFormatError';

  constructor(
    /** The file's name. */
    readonly file: string,
    /** What is wrong with it. */
    readonly problem: string,
  ) {
    super(`Knowledge file ${file}: ${problem}`);
  }
}

function field(text: string, name: string): string | undefined {
  return new RegExp(`^${name}:[ \\t]*(.+)$`, 'm').exec(text)?.[1]?.trim();
}

export function parseKnowledgeDoc(file: string, text: string): KnowledgeDoc {
  const fail = (problem: string) => new KnowledgeFormatError(file, problem);
  const title = /^# (.+)$/m.exec(text)?.[1]?.trim();
  if (!title) throw fail(KNOWLEDGE_FILE_PROBLEMS.missingTitle);
  const keywords = (field(text, 'Palavras-chave') ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  if (keywords.length < 3) throw fail(KNOWLEDGE_FILE_PROBLEMS.fewKeywords(3));
  const professional = field(text, 'Profissional');
  if (!professional) throw fail(KNOWLEDGE_FILE_PROBLEMS.missingProfessional);

  const headings = [...text.matchAll(/^## Tentativa (\d+):[ \t]*(.+)$/gm)];
  if (headings.length === 0) throw fail(KNOWLEDGE_FILE_PROBLEMS.noAttempts);
  const approaches = headings.map((heading, i) => {
    if (Number(heading[1]) !== i + 1) throw fail(KNOWLEDGE_FILE_PROBLEMS.attemptOutOfOrder(i + 1));
    const start = (heading.index ?? 0) + heading[0].length;
    const end = headings[i + 1]?.index ?? text.length;
    const body = text.slice(start, end).trim();
    if (body === '') throw fail(KNOWLEDGE_FILE_PROBLEMS.attemptWithoutSteps(i + 1));
    return { title: (heading[2] ?? '').trim(), body };
  });

  return {
    id: basename(file, '.md'),
    title,
    keywords,
    professional,
    safety: field(text, 'Segurança'),
    approaches,
  };
}

/** Reads every `*.md` file of a folder, in name order. */
export async function loadKnowledge(dir: string = DEFAULT_KNOWLEDGE_DIR): Promise<KnowledgeDoc[]> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.md')).sort();
  return Promise.all(
    files.map(async (name) => parseKnowledgeDoc(name, await readFile(join(dir, name), 'utf8'))),
  );
}

/**
 * The bundled repairs plus those of `extraDir`; a file there replaces the bundled one of the same
 * name. Throws the file system's error when `extraDir` cannot be read.
 */
export async function loadKnowledgeBase(extraDir?: string): Promise<KnowledgeDoc[]> {
  const bundled = await loadKnowledge();
  if (extraDir === undefined) return bundled;
  const byId = new Map(bundled.map((doc) => [doc.id, doc]));
  for (const doc of await loadKnowledge(extraDir)) byId.set(doc.id, doc);
  return [...byId.values()];
}
