/**
 * What the model is told, in Portuguese like the original assistant: who it is and how to
 * answer, the problem, what the knowledge base and the web found, and a last part that depends
 * on where the conversation is (first try, a later attempt, the last attempt).
 */

import type { Passage } from '../knowledge-index.js';
import { FEEDBACK_QUESTION } from '../replies.js';
import type { SolutionRequest } from '../types.js';
import type { LlmMessage } from './model.js';
import type { WebResult } from './web-search.js';

/**
 * - `first_attempt`: a new problem (attempt 1);
 * - `next_attempt`: the previous attempt failed and more remain;
 * - `last_attempt`: the previous attempt failed and this is the last one allowed (the limit).
 */
export type PromptStage = 'first_attempt' | 'next_attempt' | 'last_attempt';

/** Where a request stands. With a limit of 1 attempt, the first one is still a first try. */
export function promptStage(attempt: number, maxAttempts: number): PromptStage {
  if (attempt <= 1) return 'first_attempt';
  return attempt >= maxAttempts ? 'last_attempt' : 'next_attempt';
}

export const BASE_SYSTEM_PROMPT = `Você é um assistente especializado em reparos domésticos.
Seu objetivo é ajudar as pessoas a resolver pequenos problemas em casa com segurança.

IMPORTANTE: responda de forma DIRETA e CONCISA, sem mostrar seu raciocínio interno.

Você deve:
- Dar instruções claras, passo a passo, em uma lista numerada
- Alertar sobre perigos e precauções de segurança antes dos passos, sempre que houver risco (eletricidade, gás, água perto de fios, altura, ferramentas cortantes)
- Usar linguagem simples e acessível, sem termos técnicos sem explicação
- Ser educado, paciente e encorajador
- Responder em português do Brasil`;

export interface PromptContext {
  /** Knowledge-base passages, best first. @default [] */
  passages?: readonly Passage[];
  /** Web results, best first (given only when the knowledge base had nothing). @default [] */
  webResults?: readonly WebResult[];
}

/** Passages grouped by repair (in the order given): the repair's safety warning and
 * professional once, then its approaches, numbered across the section. */
function knowledgeSection(passages: readonly Passage[]): string {
  const groups = new Map<string, Passage[]>();
  for (const passage of passages) {
    const group = groups.get(passage.doc.id) ?? [];
    group.push(passage);
    groups.set(passage.doc.id, group);
  }
  let n = 0;
  const repairs = [...groups.values()].map((group) => {
    const doc = (group[0] as Passage).doc;
    const lines = [`### ${doc.title}`];
    if (doc.safety) lines.push(`Segurança: ${doc.safety}`);
    lines.push(`Profissional indicado: ${doc.professional}`);
    for (const p of group)
      lines.push('', `[${++n}] Tentativa ${p.number}: ${p.approach.title}`, p.approach.body);
    return lines.join('\n');
  });
  return (
    '## Informações da base de conhecimento (manuais de reparo)\n\n' +
    `${repairs.join('\n\n')}\n\n` +
    'Use essas informações dos manuais para dar uma resposta precisa. Cada trecho é uma ' +
    'abordagem numerada ("Tentativa N"); prefira a de número igual à tentativa atual.'
  );
}

function webSection(results: readonly WebResult[]): string {
  const entries = results.map(
    (r, i) => `[${i + 1}] ${r.title} (${r.url})${r.content ? `\n${r.content}` : ''}`,
  );
  return (
    '## Informações da internet\n\n' +
    `${entries.join('\n\n')}\n\n` +
    'Use essas informações da internet apenas como referência adicional: confira se fazem ' +
    'sentido e nunca recomende algo perigoso por causa delas.'
  );
}

/** The instructions for this point of the conversation. */
export function stageInstructions(attempt: number, maxAttempts: number): string {
  const ask = `Termine a resposta exatamente com a pergunta: "${FEEDBACK_QUESTION}"`;
  switch (promptStage(attempt, maxAttempts)) {
    case 'first_attempt':
      return (
        '## Instruções para esta resposta\n\n' +
        `Esta é a primeira tentativa (tentativa 1 de ${maxAttempts}).\n` +
        '- NUNCA sugira chamar um profissional nesta primeira tentativa (os alertas de ' +
        'segurança continuam obrigatórios)\n' +
        '- SEMPRE forneça uma solução prática e detalhada\n' +
        `- ${ask}`
      );
    case 'next_attempt':
      return (
        '## Instruções para esta resposta\n\n' +
        `O usuário tentou a solução anterior, mas não funcionou. Esta é a tentativa ${attempt} ` +
        `de ${maxAttempts}.\n` +
        '- Forneça uma abordagem NOVA e diferente das que já aparecem na conversa\n' +
        `- Diga no início que esta é a tentativa ${attempt} de ${maxAttempts}\n` +
        '- Seja encorajador\n' +
        `- ${ask}`
      );
    case 'last_attempt':
      return (
        '## Instruções para esta resposta\n\n' +
        `O usuário já tentou ${attempt - 1} ${attempt - 1 === 1 ? 'solução' : 'soluções'} ` +
        `sem sucesso. Esta é a última tentativa (tentativa ${attempt} de ${maxAttempts}).\n` +
        '- Forneça uma última abordagem NOVA e diferente das que já aparecem na conversa\n' +
        `- Diga no início que esta é a tentativa ${attempt} de ${maxAttempts}, a última\n` +
        '- Agradeça o esforço e a paciência do usuário e recomende chamar um profissional ' +
        'qualificado se esta tentativa não resolver: alguns problemas precisam de equipamento ' +
        'ou experiência especializada\n' +
        `- ${ask}`
      );
  }
}

/** The whole system prompt of a request. */
export function systemPrompt(request: SolutionRequest, context: PromptContext = {}): string {
  const parts = [BASE_SYSTEM_PROMPT, `## Problema relatado pelo usuário\n\n${request.problem}`];
  if (context.passages?.length) parts.push(knowledgeSection(context.passages));
  if (context.webResults?.length) parts.push(webSection(context.webResults));
  parts.push(stageInstructions(request.attempt, request.maxAttempts));
  return parts.join('\n\n');
}

/**
 * The messages sent to the model: the system prompt, the last `historyMessages` messages of the
 * conversation before this turn (the session keeps them all), then the user's message of this
 * turn.
 */
export function buildMessages(
  request: SolutionRequest,
  context: PromptContext,
  historyMessages: number,
): LlmMessage[] {
  const earlier = historyMessages > 0 ? request.history.slice(-historyMessages) : [];
  return [
    { role: 'system', content: systemPrompt(request, context) },
    ...earlier.map(({ role, content }) => ({ role, content })),
    { role: 'user', content: request.message ?? request.problem },
  ];
}
