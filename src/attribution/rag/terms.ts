/**
 * Terms for lexical retrieval: lower-cased words and numbers (Unicode letters), stop words dropped. Kept apart from
 * the span tokenizer on purpose: retrieval wants "Violins" = "violins", provenance wants exact text.
 */
const WORD = /[\p{L}\p{N}]+/gu;

/** A short English stop list: words that appear in almost every passage carry no evidence of provenance. */
const STOP = new Set(
  (
    'a an and are as at be but by for from has have he her his i in into is it its of on or our she that the their ' +
    'them then there these they this to was we were what when which who will with you your'
  ).split(' '),
);

export function terms(text: string): string[] {
  const out: string[] = [];
  for (const [w] of text.toLowerCase().matchAll(WORD)) if (!STOP.has(w)) out.push(w);
  return out;
}
