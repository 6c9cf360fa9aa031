/**
 * "Did you mean": the known name nearest to a typo. Written by hand rather than taken from a library
 * (fastest-levenshtein, leven): it is ten lines, runs on a few dozen short names once per failed
 * invocation, and every dependency of the CLI costs every invocation its load time.
 */

/**
 * Edit distance with adjacent transpositions (optimal string alignment): insert, delete, substitute and
 * swap two neighbours each cost 1, so `plna` is one edit from `plan`, as a typist sees it.
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const above = rows[i - 1] as number[];
      let best = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = best;
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/**
 * The candidate nearest to `typo`, when it is near enough to be what was meant: at most a third of the
 * typo's length away (at least 1, at most 3), or a candidate that starts with the typo (`--kube` → `--kubeconfig`).
 * Ties go to the first candidate.
 */
export function closest(typo: string, candidates: readonly string[]): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(typo.length / 3)));
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(typo.toLowerCase(), name.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  if (best) return best.name;
  return typo.length >= 3 ? candidates.find((name) => name.startsWith(typo)) : undefined;
}

/**
 * The command nearest to the words typed: `candidates` are command paths ("scan gate") and group words
 * ("scan"); each is compared with as many of the typed words as it has. A command near enough beats a
 * group that matches exactly (`scan gat` is `scan gate`, not the group `scan`).
 */
export function closestCommand(words: string[], candidates: readonly string[]): string | undefined {
  let best: { name: string; size: number; distance: number } | undefined;
  for (const name of candidates) {
    const size = name.split(" ").length;
    const typed = words.slice(0, size).join(" ");
    const limit = Math.min(3, Math.max(1, Math.floor(typed.length / 3)));
    const distance = editDistance(typed.toLowerCase(), name);
    if (distance > limit) continue;
    if (!best || size > best.size || (size === best.size && distance < best.distance)) best = { name, size, distance };
  }
  return best?.name;
}
