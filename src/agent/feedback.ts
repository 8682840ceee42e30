/**
 * Reads the user's answer to "O problema foi resolvido?". Negations win over positive words
 * ("não funcionou" is a failure), except where they deny the symptom ("não pinga mais" means
 * it is fixed); hesitation ("não sei") is ambiguous, not a failure.
 */
import { normalizeText } from './text.js';

export type Feedback = 'resolved' | 'not_resolved' | 'ambiguous';

const HESITATION = [
  /\bn(ao|em) sei\b/,
  /\bnao tenho certeza\b/,
  /\btalvez\b/,
  /\bmais ou menos\b/,
  /\bem parte\b/,
  /\bparcialmente\b/,
  /\bmelhorou um pouco\b/,
];

// Words for what the problem did: dripping, leaking, clogging, tripping, creaking, smelling...
const SYMPTOM =
  '(ping|got|vaz|escorr|entup|desarm|cai|rang|chi|fed|cheir|barulh|estal|trav|emperr|arrast|infiltr|mof|transbord|alag|faisc|pisc)';

/** "não pinga mais", "não está mais vazando", "nunca mais pingou": the symptom is gone. */
const SYMPTOM_GONE = new RegExp(
  `\\b(nao|nunca) (mais )?((esta|ta|tem|sai|fica|faz) )?(mais )?${SYMPTOM}\\w*`,
);

const NEGATIVE = [
  /\bnao\b/,
  /\bnope\b/,
  /\bnegativo\b/,
  /\bnunca\b/,
  /\b(nem|num) (funcion|deu|resolv|mud|melhor)\w*/,
  /\bdeu errado\b/,
  /\bparou de funcionar\b/,
  /\bcontinu(a|am|ou)\b(?! funcionando)/,
  /\bpersist(e|em|iu)\b/,
  /\bpiorou\b/,
  /\bfalhou\b/,
  /\bsem sucesso\b/,
  /\bainda (esta|ta|pinga|vaza|entupid|sem|com)\w*/,
  /^(n|no|not)$/,
  /\b(didn t|doesn t|not) work/,
];

const POSITIVE = [
  /^(s|y|ok|yes|yep|yeah)$/,
  /\bsim\b/,
  /\bfuncion(ou|a|ando)\b/,
  /\bdeu certo\b/,
  /\bresolv(eu|ido|ida|i)\b/,
  /\bconsert(ou|ado|ada|ei)\b/,
  /\bconsegui\b/,
  /\bparou\b/,
  /\bperfeito\b/,
  /\b(it )?worked\b/,
];

export function classifyFeedback(message: string): Feedback {
  const text = normalizeText(message);
  if (text === '') return 'ambiguous';
  if (HESITATION.some((pattern) => pattern.test(text))) return 'ambiguous';
  if (SYMPTOM_GONE.test(text)) return 'resolved';
  if (NEGATIVE.some((pattern) => pattern.test(text))) return 'not_resolved';
  if (POSITIVE.some((pattern) => pattern.test(text))) return 'resolved';
  return 'ambiguous';
}
