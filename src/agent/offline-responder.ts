/**
 * The default Responder: no network. Finds the repair in the knowledge base with a full-text
 * index (MiniSearch, Portuguese stemming) and answers with that repair's approach for the
 * attempt. An unrecognised problem gets safe generic guidance and a request for details.
 */

import { type KnowledgeDoc, loadKnowledge } from './knowledge.js';
import { KnowledgeIndex } from './knowledge-index.js';
import type { Responder, SolutionReply, SolutionRequest } from './types.js';

export const GENERIC_GUIDANCE =
  'Ainda não consegui identificar o problema com segurança, e prefiro não chutar uma solução. ' +
  'Pode me contar mais detalhes? Por exemplo: o que está com defeito (torneira, tomada, porta, ' +
  'chuveiro...), em que cômodo fica, o que acontece exatamente e desde quando.\n\n' +
  'Enquanto isso, por segurança: se houver cheiro de gás, faísca, fumaça ou água perto de fios ' +
  'e tomadas, não mexa em nada elétrico, desligue o disjuntor geral ou feche o registro do gás ' +
  'se puder fazer isso sem risco, afaste-se e chame um profissional ou os bombeiros (193).';

export class OfflineResponder implements Responder {
  readonly name = 'offline';
  readonly #index: KnowledgeIndex;

  /** Over these repairs, or over an index already built (shared with other responders). */
  constructor(knowledge: readonly KnowledgeDoc[] | KnowledgeIndex) {
    this.#index = knowledge instanceof KnowledgeIndex ? knowledge : new KnowledgeIndex(knowledge);
  }

  /** An OfflineResponder over the markdown files of `dir` (the bundled knowledge base by default). */
  static async fromDirectory(dir?: string): Promise<OfflineResponder> {
    return new OfflineResponder(await loadKnowledge(dir));
  }

  /** The repair that best matches a description, if any does. */
  find(problem: string): KnowledgeDoc | undefined {
    return this.#index.find(problem);
  }

  async solve(request: SolutionRequest): Promise<SolutionReply> {
    const doc = this.find(request.problem);
    if (doc === undefined) {
      return {
        text: GENERIC_GUIDANCE,
        needsDetails: true,
        // No webSearch: the agent reports "unavailable" (never searched) or "disabled".
        sources: [],
      };
    }

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
    return {
      text: parts.join('\n\n'),
      needsDetails: false,
      sources: [doc.id],
    };
  }
}
