/** Levenshtein distance, small and allocation-light: names here are short. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `input`, or undefined when nothing is close enough to be a plausible typo
 * (suggesting an unrelated name is worse than suggesting none).
 */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  const needle = input.toLowerCase();
  let best: { name: string; score: number } | undefined;
  for (const name of candidates) {
    const hay = name.toLowerCase();
    // A prefix or substring match ("blur" for "blur-image") is a strong hint even if the distance is big.
    const score = hay.startsWith(needle) || needle.startsWith(hay) ? 0.5 : editDistance(needle, hay);
    if (!best || score < best.score) best = { name, score };
  }
  if (!best) return undefined;
  const limit = Math.max(2, Math.floor(Math.max(needle.length, 1) / 3));
  return best.score <= limit ? best.name : undefined;
}

export const didYouMean = (input: string, candidates: readonly string[]): string => {
  const hit = closest(input, candidates);
  return hit ? ` (did you mean "${hit}"?)` : '';
};
