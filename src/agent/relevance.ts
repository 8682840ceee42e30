/**
 * How well the knowledge base matched a description: the number behind the API's
 * `relevance_score`, computed the same way for the offline responder and for a language model.
 */
import type { Approach, KnowledgeDoc } from './knowledge.js';
import { stemsOf } from './knowledge-index.js';

/** A part of the knowledge base a reply was based on: a repair, and the approach used, if any
 * (the offline responder past a repair's last approach uses none). */
export interface UsedPassage {
  readonly doc: KnowledgeDoc;
  readonly approach?: Approach;
}

// Repairs and approaches are read once at start-up and never change: their stems are kept.
const repairStems = new WeakMap<KnowledgeDoc, ReadonlySet<string>>();
const approachStems = new WeakMap<Approach, ReadonlySet<string>>();
const NONE: ReadonlySet<string> = new Set();

function stemsOfRepair(doc: KnowledgeDoc): ReadonlySet<string> {
  let stems = repairStems.get(doc);
  if (stems === undefined) {
    stems = stemsOf([doc.title, ...doc.keywords, doc.safety ?? ''].join('\n'));
    repairStems.set(doc, stems);
  }
  return stems;
}

function stemsOfApproach(approach: Approach | undefined): ReadonlySet<string> {
  if (approach === undefined) return NONE;
  let stems = approachStems.get(approach);
  if (stems === undefined) {
    stems = stemsOf(`${approach.title}\n${approach.body}`);
    approachStems.set(approach, stems);
  }
  return stems;
}

/**
 * The relevance of the passages a reply was based on to the description searched: for each
 * passage, the share of the description's distinct word stems (Portuguese Snowball stemming,
 * accents and case ignored, stop words and one-letter words left out, as the knowledge index
 * does) found among the stems of the passage (its repair's title, keywords and safety warning,
 * and the approach's title and steps); the best passage's share, from 0 to 1, rounded to two
 * decimals. 1: every meaningful word of the description is in the passage; 0.5: half of them.
 * Stems must be equal: a misspelt word the search still matched (fuzzily) does not count.
 *
 * null when no passage was used (the knowledge base was not searched, or found nothing), or when
 * the description has no meaningful word at all.
 */
export function relevanceScore(
  description: string,
  passages: readonly UsedPassage[],
): number | null {
  if (passages.length === 0) return null;
  const wanted = stemsOf(description);
  if (wanted.size === 0) return null;
  let best = 0;
  for (const passage of passages) {
    const repair = stemsOfRepair(passage.doc);
    const steps = stemsOfApproach(passage.approach);
    let found = 0;
    for (const stem of wanted) if (repair.has(stem) || steps.has(stem)) found += 1;
    best = Math.max(best, found / wanted.size);
  }
  return Math.round(best * 100) / 100;
}
