/**
 * The default Responder: no network. Finds the repair in the knowledge base with a full-text
 * index (MiniSearch, Portuguese stemming) and answers with that repair's approach for the
 * attempt. An unrecognised problem gets safe generic guidance and a request for details.
 */
import MiniSearch from 'minisearch';
import { newStemmer } from 'snowball-stemmers';
import { type KnowledgeDoc, loadKnowledge } from './knowledge.js';
import { normalizeText } from './text.js';
import type { Responder, SolutionReply, SolutionRequest } from './types.js';

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

export const GENERIC_GUIDANCE =
  'Ainda não consegui identificar o problema com segurança, e prefiro não chutar uma solução. ' +
  'Pode me contar mais detalhes? Por exemplo: o que está com defeito (torneira, tomada, porta, ' +
  'chuveiro...), em que cômodo fica, o que acontece exatamente e desde quando.\n\n' +
  'Enquanto isso, por segurança: se houver cheiro de gás, faísca, fumaça ou água perto de fios ' +
  'e tomadas, não mexa em nada elétrico, desligue o disjuntor geral ou feche o registro do gás ' +
  'se puder fazer isso sem risco, afaste-se e chame um profissional ou os bombeiros (193).';

export class OfflineResponder implements Responder {
  readonly name = 'offline';
  readonly #docs: Map<string, KnowledgeDoc>;
  readonly #index: MiniSearch<KnowledgeDoc>;
  // Every attempt of a conversation searches the same description again.
  readonly #found = new Memo<KnowledgeDoc | undefined>(1000);

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

  /** An OfflineResponder over the markdown files of `dir` (the bundled knowledge base by default). */
  static async fromDirectory(dir?: string): Promise<OfflineResponder> {
    return new OfflineResponder(await loadKnowledge(dir));
  }

  /** The repair that best matches a description, if any does. */
  find(problem: string): KnowledgeDoc | undefined {
    return this.#found.get(problem, (text) => this.#search(text));
  }

  #search(problem: string): KnowledgeDoc | undefined {
    const [best] = this.#index.search(problem);
    if (best === undefined) return undefined;
    // One stray word ("meu carro não liga" -> "luz não liga") is not a diagnosis: ask for two
    // words of the description, or one that names the repair itself.
    const confident =
      best.queryTerms.length >= 2 ||
      Object.values(best.match).some((fields) => fields.includes('title'));
    return confident ? this.#docs.get(String(best.id)) : undefined;
  }

  async solve(request: SolutionRequest): Promise<SolutionReply> {
    const doc = this.find(request.problem);
    if (doc === undefined) return { text: GENERIC_GUIDANCE, needsDetails: true, sources: [] };

    const parts = [];
    if (doc.safety) parts.push(`Atenção: ${doc.safety}`);
    const approach = doc.approaches[request.attempt - 1];
    if (approach === undefined) {
      parts.push(
        `${doc.title}: já passamos pelas abordagens mais comuns para este problema. ` +
          'Revise com calma os passos das tentativas anteriores, confira se cada peça foi bem ' +
          `encaixada e anote o que observou: isso ajuda muito um ${doc.professional}.`,
      );
    } else {
      parts.push(`${doc.title}: ${approach.title}`, approach.body);
      if (request.attempt === doc.approaches.length) {
        parts.push(`Se isso não resolver, o mais seguro é chamar um ${doc.professional}.`);
      }
    }
    return { text: parts.join('\n\n'), needsDetails: false, sources: [doc.id] };
  }
}
