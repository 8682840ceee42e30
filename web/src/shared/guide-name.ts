/** A knowledge-base guide's file name as a person reads it: "torneira-pingando" -> "Torneira
 * pingando". */
export function guideName(source: string): string {
  const words = source.replace(/[-_]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
