/*
 * SA-IS suffix array construction for WebAssembly: the same algorithm, layout and tricks as ../sais.ts (read that
 * file's comments first), in freestanding C. Built by ./build.sh into ../sais-wasm.ts (base64), so users need no
 * C toolchain. Compiled to wasm it runs ~2x the TypeScript version on this project's bench (no bounds checks or
 * tagged-integer checks in the induce loops), which is what makes it worth a second implementation.
 *
 * Memory: the host imports the memory and passes where the text, the suffix array and a scratch area lie; the
 * scratch area is a stack (bucket tables of each recursion level), so no allocator or libc is needed.
 */
typedef int i32;
typedef unsigned long usize;

static usize scratch_top;

static i32 *scratch_alloc(i32 count) {
  i32 *p = (i32 *)scratch_top;
  scratch_top += (usize)count * 4;
  return p;
}

static void buckets(const i32 *counts, i32 *bkt, i32 k, int end) {
  i32 sum = 0;
  for (i32 c = 0; c < k; c++) {
    sum += counts[c];
    bkt[c] = end ? sum : sum - counts[c];
  }
}

static void induce_l(const i32 *s, i32 *sa, const i32 *counts, i32 *bkt, i32 n, i32 k) {
  buckets(counts, bkt, k, 0);
  for (i32 i = 0; i < n; i++) {
    i32 p = sa[i];
    if (p > 0) {
      i32 v = s[p - 1];
      if ((v & 1) == 0) sa[bkt[v >> 1]++] = p - 1;
    }
  }
}

/* With mark, an induced suffix whose predecessor is L-type (an LMS suffix) is stored as ~p. */
static void induce_s(const i32 *s, i32 *sa, const i32 *counts, i32 *bkt, i32 n, i32 k, int mark) {
  buckets(counts, bkt, k, 1);
  for (i32 i = n - 1; i >= 0; i--) {
    i32 p = sa[i];
    if (p > 0) {
      i32 j = p - 1;
      i32 v = s[j];
      if ((v & 1) == 1) sa[--bkt[v >> 1]] = (mark && j > 0 && (s[j - 1] & 1) == 0) ? ~j : j;
    }
  }
}

static int is_lms(const i32 *s, i32 i) { return (s[i] & 1) == 1 && (s[i - 1] & 1) == 0; }

/* s holds plain symbols on entry and packed (symbol << 1 | isS) symbols on return. */
static void sais(i32 *s, i32 *sa, i32 n, i32 k) {
  if (n == 1) {
    s[0] = 1;
    sa[0] = 0;
    return;
  }
  usize mark = scratch_top;
  i32 *counts = scratch_alloc(k);
  i32 *bkt = scratch_alloc(k);
  __builtin_memset(counts, 0, (usize)k * 4);

  s[n - 1] = (s[n - 1] << 1) | 1;
  counts[s[n - 1] >> 1]++;
  for (i32 i = n - 2; i >= 0; i--) {
    i32 a = s[i], next = s[i + 1], b = next >> 1;
    s[i] = (a << 1) | ((a < b || (a == b && (next & 1) == 1)) ? 1 : 0);
    counts[a]++;
  }

  /* Stage 1: sort the LMS substrings. */
  buckets(counts, bkt, k, 1);
  for (i32 i = 0; i < n; i++) sa[i] = -1;
  for (i32 i = 1; i < n; i++)
    if (is_lms(s, i)) sa[--bkt[s[i] >> 1]] = i;
  induce_l(s, sa, counts, bkt, n, k);
  induce_s(s, sa, counts, bkt, n, k, 1);

  i32 n1 = 1;
  for (i32 i = 1; i < n; i++) {
    i32 p = sa[i];
    if (p < 0) sa[n1++] = ~p;
  }
  for (i32 i = n1; i < n; i++) sa[i] = -1;
  i32 next_lms = n - 1;
  sa[n1 + ((n - 1) >> 1)] = 0;
  for (i32 i = n - 2; i >= 1; i--) {
    if (is_lms(s, i)) {
      sa[n1 + (i >> 1)] = next_lms - i;
      next_lms = i;
    }
  }
  i32 name = 0, prev = -1, prev_len = -1;
  for (i32 i = 0; i < n1; i++) {
    i32 pos = sa[i], slot = n1 + (pos >> 1), len = sa[slot];
    int diff = 1;
    if (len == prev_len) {
      diff = 0;
      for (i32 d = 0; d <= len; d++) {
        if (s[pos + d] != s[prev + d]) {
          diff = 1;
          break;
        }
      }
    }
    if (diff) {
      name++;
      prev = pos;
      prev_len = len;
    }
    sa[slot] = name - 1;
  }
  for (i32 i = n - 1, j = n - 1; i >= n1; i--) {
    i32 v = sa[i];
    if (v >= 0) sa[j--] = v;
  }

  /* Stage 2: solve the reduced problem. */
  i32 *s1 = sa + (n - n1), *sa1 = sa;
  if (name < n1) sais(s1, sa1, n1, name);
  else
    for (i32 i = 0; i < n1; i++) sa1[s1[i]] = i;

  /* Stage 3: induce the full suffix array from the sorted LMS suffixes. */
  for (i32 i = 1, j = 0; i < n; i++)
    if (is_lms(s, i)) s1[j++] = i;
  for (i32 i = 0; i < n1; i++) sa1[i] = s1[sa1[i]];
  for (i32 i = n1; i < n; i++) sa[i] = -1;
  buckets(counts, bkt, k, 1);
  for (i32 i = n1 - 1; i >= 0; i--) {
    i32 p = sa[i];
    sa[i] = -1;
    sa[--bkt[s[p] >> 1]] = p;
  }
  induce_l(s, sa, counts, bkt, n, k);
  induce_s(s, sa, counts, bkt, n, k, 0);
  scratch_top = mark;
}

/* Entry point: text[n] (sentinel 0 last, symbols < k), sa[n] out, scratch ≥ 8 * (k + n) bytes. text is restored. */
__attribute__((export_name("sa_is"))) void sa_is(i32 *text, i32 *sa, i32 n, i32 k, i32 *scratch) {
  scratch_top = (usize)scratch;
  if (n == 0) return;
  sais(text, sa, n, k);
  for (i32 i = 0; i < n; i++) text[i] >>= 1;
}
