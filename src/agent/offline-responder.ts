/**
 * The default Responder: no network. Finds the repair in the knowledge base with a full-text
 * index (MiniSearch, Portuguese stemming) and answers with that repair's approach for the
 * attempt. An unrecognised problem gets safe generic guidance and a request for details.
 */

import { offlineReplies } from '../texts/agent.js';
import { type KnowledgeDoc, loadKnowledge } from './knowledge.js';
import { KnowledgeIndex } from './knowledge-index.js';
import { relevanceScore } from './relevance.js';
import type { Responder, SolutionReply, SolutionRequest, SolveOptions } from './types.js';

/** The reply cut into the pieces it is streamed in: one line at a time (a paragraph, a step),
 * each with the line breaks that follow it. */
export function replyPieces(text: string): string[] {
  return text.match(/[^\n]+\n*|\n+/g) ?? [];
}

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

  /** The knowledge base is its only source, whatever `useRag` says. With `onDelta`, the reply
   * is passed on a line at a time (all of it at once: nothing here waits). */
  async solve(request: SolutionRequest, options: SolveOptions = {}): Promise<SolutionReply> {
    options.signal?.throwIfAborted();
    const reply = this.#reply(request);
    const { onDelta } = options;
    if (onDelta !== undefined) {
      const info = { needsDetails: reply.needsDetails };
      for (const piece of replyPieces(reply.text)) onDelta(piece, info);
    }
    return reply;
  }

  #reply(request: SolutionRequest): SolutionReply {
    const doc = this.find(request.problem);
    if (doc === undefined) {
      return {
        text: offlineReplies.genericGuidance,
        needsDetails: true,
        // No webSearch: the agent reports "unavailable" (never searched) or "disabled".
        sources: [],
        relevanceScore: null,
      };
    }

    const parts = [];
    if (doc.safety) parts.push(offlineReplies.safety(doc.safety));
    const approach = doc.approaches[request.attempt - 1];
    if (approach === undefined) {
      parts.push(offlineReplies.pastLastApproach(doc.title, doc.professional));
    } else {
      parts.push(offlineReplies.approach(doc.title, approach.title), approach.body);
      if (request.attempt === doc.approaches.length) {
        parts.push(offlineReplies.lastApproach(doc.professional));
      }
    }
    return {
      text: parts.join('\n\n'),
      needsDetails: false,
      sources: [doc.id],
      relevanceScore: relevanceScore(request.problem, [{ doc, approach }]),
    };
  }
}
