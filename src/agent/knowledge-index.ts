/**
 * The knowledge base indexed once: a full-text index (MiniSearch, Portuguese stemming) over the
 * repairs' titles and keywords. It finds the repair a description is about, and the passages
 * (one approach of one repair each) a language model is given to ground its answer.
 */
import MiniSearch from 'minisearch';
import { newStemmer } from 'snowball-stemmers';
import type { Approach, KnowledgeDoc } from './knowledge.js';
import { normalizeText } from './text.js';

// Words that say nothing about which repair is meant (compared without accents).
const STOPWORDS = new Set(
  (
    'a o as os um uma uns umas de do da dos das no na nos nas em e que com para pra pro por ' +
    'meu minha meus minhas seu sua esta estao ta to tao ele ela isso esse essa este ' +
    'nao sim muito mais ja tem ter tenho problema casa ajuda ajudar preciso quando como ao ' +
    'aos se me mim eu voce oi ola bom dia boa tarde noite so sempre agora hoje ontem todo toda ' +
    'fica ficou funciona funcionando funcionar quebrou quebrado quebrada estragou defeito ' +
    'consertar arrumar aqui ai la onde qual quero favor obrigado ou mas porque pq agua'
  ).split(' '),
);

const stemmer = newStemmer('portuguese');

/** Small bounded memo: people reuse words and repeat descriptions, and stemming and fuzzy
 * search are the costly part of a reply. */
class Memo<V> {
  readonly #entries = new Map<string, V>();
  constructor(readonly limit: number) {}

  get(key: string, compute: (key: string) => V): V {
    if (this.#entries.has(key)) return this.#entries.get(key) as V;
    const value = compute(key);
    if (this.#entries.size >= this.limit)
      this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(key, value);
    return value;
  }
}

const stems = new Memo<string | null>(20000);

function indexTerm(term: string): string | null {
  return stems.get(term, () => {
    const plain = normalizeText(term);
    if (plain.length < 2 || STOPWORDS.has(plain)) return null;
    return normalizeText(stemmer.stem(term.toLowerCase()));
  });
}

/** Where MiniSearch splits a text into terms (its default tokenizer). */
const TERM_SEPARATOR = /[\n\r\p{Z}\p{P}]+/u;

/** The distinct stems of a text's words, as the index sees them: accents and case ignored,
 * stop words and one-letter words left out ("Torneiras pingando!" -> {"torneir", "ping"}). */
export function stemsOf(text: string): Set<string> {
  const found = new Set<string>();
  for (const term of text.split(TERM_SEPARATOR)) {
    const stem = term === '' ? null : indexTerm(term);
    if (stem) found.add(stem);
  }
  return found;
}

/** One approach of one repair: the unit a language model is given. */
export interface Passage {
  readonly doc: KnowledgeDoc;
  /** 1-based number of the approach in its repair ("## Tentativa N"). */
  readonly number: number;
  readonly approach: Approach;
}

export interface PassageOptions {
  /** Most passages returned. @default 3 */
  limit?: number;
  /** The attempt the passages are for: the repair's approach of that number comes first.
   * @default 1 */
  attempt?: number;
}

/** Repairs whose score is below this share of the best one's are not "relevant". */
const RELATIVE_SCORE = 0.5;

export class KnowledgeIndex {
  readonly #docs: Map<string, KnowledgeDoc>;
  readonly #index: MiniSearch<KnowledgeDoc>;
  // Every attempt of a conversation searches the same description again.
  readonly #found = new Memo<readonly KnowledgeDoc[]>(1000);

  constructor(docs: readonly KnowledgeDoc[]) {
    this.#docs = new Map(docs.map((doc) => [doc.id, doc]));
    this.#index = new MiniSearch<KnowledgeDoc>({
      fields: ['title', 'keywords'],
      extractField: (doc, name) =>
        name === 'keywords' ? doc.keywords.join(' ') : String(doc[name as keyof KnowledgeDoc]),
      processTerm: indexTerm,
      searchOptions: {
        boost: { title: 2 },
        fuzzy: (term) => (term.length >= 5 ? 0.2 : false),
        prefix: (term) => term.length >= 4,
      },
    });
    this.#index.addAll([...this.#docs.values()]);
  }

  /** Number of repairs indexed. */
  get size(): number {
    return this.#docs.size;
  }

  /** The repair that best matches a description, if any does. */
  find(problem: string): KnowledgeDoc | undefined {
    return this.search(problem)[0];
  }

  /** The repairs a description is confidently about, best first (often one, never a guess). */
  search(problem: string): readonly KnowledgeDoc[] {
    return this.#found.get(problem, (text) => this.#search(text));
  }

  /**
   * Passages for a description: the approaches of the relevant repairs, best repair first and,
   * within a repair, the approach for this attempt first, then the others in order. Empty when
   * the knowledge base has nothing relevant.
   */
  passages(problem: string, options: PassageOptions = {}): Passage[] {
    const limit = options.limit ?? 3;
    const attempt = options.attempt ?? 1;
    const found: Passage[] = [];
    for (const doc of this.search(problem)) {
      const numbered = doc.approaches.map((approach, i) => ({ doc, number: i + 1, approach }));
      const preferred = numbered.filter((p) => p.number === attempt);
      found.push(...preferred, ...numbered.filter((p) => p.number !== attempt));
      if (found.length >= limit) break;
    }
    return found.slice(0, limit);
  }

  #search(problem: string): readonly KnowledgeDoc[] {
    const results = this.#index.search(problem);
    const best = results[0];
    if (best === undefined) return [];
    // One stray word ("meu carro não liga" -> "luz não liga") is not a diagnosis: ask for two
    // words of the description, or one that names the repair itself.
    const confident = (result: (typeof results)[number]) =>
      result.queryTerms.length >= 2 ||
      Object.values(result.match).some((fields) => fields.includes('title'));
    if (!confident(best)) return [];
    return results
      .filter((result) => result.score >= best.score * RELATIVE_SCORE && confident(result))
      .flatMap((result) => this.#docs.get(String(result.id)) ?? []);
  }
}
