/**
 * Terms for lexical retrieval: lower-cased words and numbers (Unicode letters), stop words dropped. Kept apart from
 * the span tokenizer on purpose: retrieval wants "Violins" = "violins", provenance wants exact text.
 *
 * Chinese and Japanese are written without spaces, so a run of Han, Hiragana or Katakana would otherwise be one
 * "word" as long as the sentence. Such runs become overlapping character bigrams (a lone character stays itself),
 * as CJK search engines index them. Not a dictionary segmenter (Intl.Segmenter) on purpose: its output depends on
 * the ICU version of the runtime, and attribution must give the node and every auditor the same terms.
 */
const WORD = /[\p{L}\p{N}]+/gu;
const CJK_RUN =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]+|[^\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]+/gu;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

/** Overlapping character bigrams of a CJK run ("河流把" → "河流", "流把"); a single character stays itself. */
function bigrams(run: string): string[] {
  const chars = [...run];
  if (chars.length < 2) return chars;
  return chars.slice(1).map((c, i) => `${chars[i]}${c}`);
}

/** A short English stop list: words that appear in almost every passage carry no evidence of provenance. */
const STOP = new Set(
  (
    'a an and are as at be but by for from has have he her his i in into is it its of on or our she that the their ' +
    'them then there these they this to was we were what when which who will with you your'
  ).split(' '),
);

export function terms(text: string): string[] {
  const out: string[] = [];
  for (const [w] of text.toLowerCase().matchAll(WORD)) {
    if (!CJK.test(w)) {
      if (!STOP.has(w)) out.push(w);
      continue;
    }
    for (const [part] of w.matchAll(CJK_RUN)) {
      if (CJK.test(part)) out.push(...bigrams(part));
      else if (!STOP.has(part)) out.push(part);
    }
  }
  return out;
}
