/** The agent's fixed sentences, in Portuguese like the original assistant. Deterministic: they
 * never go through a Responder. */

export const FEEDBACK_QUESTION = "O problema foi resolvido? Responda com 'sim' ou 'não'.";

export const RESOLVED_REPLY =
  'Que ótimo que o problema foi resolvido! Se aparecer outro problema em casa, é só me contar.';

export const AMBIGUOUS_REPLY = `Desculpe, não entendi sua resposta. ${FEEDBACK_QUESTION}`;

export const EMPTY_MESSAGE_REPLY =
  'Não recebi nenhuma descrição. Conte qual é o problema: o que está com defeito e o que acontece.';

/** A text that already ends by asking for 'sim' or 'não' (as a model is told to). */
const ASKS_FOR_FEEDBACK = /\bsim\W{0,3}\s+ou\s+\W{0,3}n[aã]o\W{0,3}\s*$/i;

/** The solution, then the feedback question unless the solution already ends with one. */
export function firstSolutionReply(solution: string): string {
  const text = solution.trim();
  return ASKS_FOR_FEEDBACK.test(text) ? text : `${text}\n\n${FEEDBACK_QUESTION}`;
}

/** Which attempt this is, then the solution and the feedback question; the parts the solution
 * already has (a model is told to name the attempt and ask) are not repeated. */
export function nextSolutionReply(solution: string, attempt: number, maxAttempts: number): string {
  const named = new RegExp(`tentativa\\s*${attempt}\\s*(de|/)\\s*${maxAttempts}\\b`, 'i').test(
    solution,
  );
  const reply = firstSolutionReply(solution);
  return named
    ? reply
    : `Entendi. Vamos tentar outra abordagem (tentativa ${attempt} de ${maxAttempts}).\n\n${reply}`;
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
