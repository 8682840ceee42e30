/**
 * Reads the user's answer to "O problema foi resolvido?". Negations win over positive words
 * ("não funcionou" is a failure), and hesitation ("não sei") is ambiguous, not a failure.
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

const NEGATIVE = [
  /\bnao\b/,
  /\bnope\b/,
  /\bparou de funcionar\b/,
  /\bnegativo\b/,
  /\bnunca\b/,
  /\bnem\b/,
  /\bcontinu(a|am|ou)\b/,
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
  /\bfuncion(ou|a)\b/,
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
  if (NEGATIVE.some((pattern) => pattern.test(text))) return 'not_resolved';
  if (POSITIVE.some((pattern) => pattern.test(text))) return 'resolved';
  return 'ambiguous';
}
