/** Text normalisation shared by feedback detection and knowledge search. */

/** Lower case, without accents, punctuation or repeated spaces: "Não!" -> "nao". */
export function normalizeText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
    .replace(/[^\p{Letter}\p{Number}]+/gu, ' ')
    .trim();
}
