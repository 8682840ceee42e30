/**
 * Every sentence a person reads from the repair assistant itself (its fixed replies, the frame
 * around a solution, the offline responder's wording), in Portuguese (pt-BR) like the original
 * assistant. What a language model is told is not here: prompts live with the model code.
 */

/** Asked after every solution; a model is told to end its reply with exactly this. */
export const FEEDBACK_QUESTION = "O problema foi resolvido? Responda com 'sim' ou 'não'.";

/** The agent's fixed replies: deterministic, they never go through a responder. */
export const turnReplies = {
  resolved:
    'Que ótimo que o problema foi resolvido! Se aparecer outro problema em casa, é só me contar.',
  ambiguous: `Desculpe, não entendi sua resposta. ${FEEDBACK_QUESTION}`,
  emptyMessage:
    'Não recebi nenhuma descrição. Conte qual é o problema: o que está com defeito e o que acontece.',
  /** The line before a later attempt's solution (when the solution does not say it already). */
  nextAttempt: (attempt: number, maxAttempts: number) =>
    `Entendi. Vamos tentar outra abordagem (tentativa ${attempt} de ${maxAttempts}).`,
  maxAttempts: (maxAttempts: number) => {
    const tried =
      maxAttempts === 1 ? 'a tentativa não tenha' : `as ${maxAttempts} tentativas não tenham`;
    return (
      `Sinto muito que ${tried} resolvido o problema. Recomendo chamar um profissional ` +
      'qualificado para avaliar pessoalmente: conte a ele o que já foi tentado, isso agiliza o ' +
      'diagnóstico. Se quiser ajuda com outro problema, é só descrever.'
    );
  },
} as const;

/** The offline responder's wording around the knowledge base's repairs. */
export const offlineReplies = {
  /** For a problem the knowledge base does not recognise: safe guidance and a request for
   * details. */
  genericGuidance:
    'Ainda não consegui identificar o problema com segurança, e prefiro não chutar uma solução. ' +
    'Pode me contar mais detalhes? Por exemplo: o que está com defeito (torneira, tomada, porta, ' +
    'chuveiro...), em que cômodo fica, o que acontece exatamente e desde quando.\n\n' +
    'Enquanto isso, por segurança: se houver cheiro de gás, faísca, fumaça ou água perto de fios ' +
    'e tomadas, não mexa em nada elétrico, desligue o disjuntor geral ou feche o registro do gás ' +
    'se puder fazer isso sem risco, afaste-se e chame um profissional ou os bombeiros (193).',
  /** A repair's safety warning, first in its replies. */
  safety: (warning: string) => `Atenção: ${warning}`,
  /** The heading of one approach: the repair's title, then the approach's. */
  approach: (repair: string, approach: string) => `${repair}: ${approach}`,
  /** After the last approach of a repair. */
  lastApproach: (professional: string) =>
    `Se isso não resolver, o mais seguro é chamar um ${professional}.`,
  /** When more attempts are allowed than the repair has approaches. */
  pastLastApproach: (repair: string, professional: string) =>
    `${repair}: já passamos pelas abordagens mais comuns para este problema. ` +
    'Revise com calma os passos das tentativas anteriores, confira se cada peça foi bem ' +
    `encaixada e anote o que observou: isso ajuda muito um ${professional}.`,
} as const;
