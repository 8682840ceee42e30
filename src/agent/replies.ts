/** The agent's fixed sentences, in Portuguese like the original assistant. Deterministic: they
 * never go through a Responder. */

export const FEEDBACK_QUESTION = "O problema foi resolvido? Responda com 'sim' ou 'não'.";

export const RESOLVED_REPLY =
  'Que ótimo que o problema foi resolvido! Se aparecer outro problema em casa, é só me contar.';

export const AMBIGUOUS_REPLY = `Desculpe, não entendi sua resposta. ${FEEDBACK_QUESTION}`;

export const EMPTY_MESSAGE_REPLY =
  'Não recebi nenhuma descrição. Conte qual é o problema: o que está com defeito e o que acontece.';

export function firstSolutionReply(solution: string): string {
  return `${solution}\n\n${FEEDBACK_QUESTION}`;
}

export function nextSolutionReply(solution: string, attempt: number, maxAttempts: number): string {
  return `Entendi. Vamos tentar outra abordagem (tentativa ${attempt} de ${maxAttempts}).\n\n${solution}\n\n${FEEDBACK_QUESTION}`;
}

export function maxAttemptsReply(maxAttempts: number): string {
  const tried =
    maxAttempts === 1 ? 'a tentativa não tenha' : `as ${maxAttempts} tentativas não tenham`;
  return (
    `Sinto muito que ${tried} resolvido o problema. Recomendo chamar um profissional ` +
    'qualificado para avaliar pessoalmente: conte a ele o que já foi tentado, isso agiliza o ' +
    'diagnóstico. Se quiser ajuda com outro problema, é só descrever.'
  );
}
