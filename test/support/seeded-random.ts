/**
 * A small deterministic generator of numbers in [0, 1): the same generated documents on
 * every run, so a failure found once is found again.
 */
export function seededRandom(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}
