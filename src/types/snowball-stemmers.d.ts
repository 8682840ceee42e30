/** Types for the untyped `snowball-stemmers` package (the Snowball algorithms in JavaScript). */
declare module 'snowball-stemmers' {
  export interface Stemmer {
    stem(word: string): string;
  }
  export function newStemmer(language: string): Stemmer;
  export function algorithms(): string[];
}
