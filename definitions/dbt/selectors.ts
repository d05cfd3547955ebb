/**
 * The `--select` arguments of one dbt invocation. dbt has no unique-id selector, so each node is selected by
 * its fqn; where every buildable node under an fqn prefix (a folder, the whole project) is wanted, the prefix
 * alone selects them, which keeps the command line short for large projects.
 */

interface Trie {
  children: Map<string, Trie>;
  /** Buildable nodes at or below this prefix. */
  total: number;
  wanted: number;
  /** A wanted node ends exactly here. */
  leafWanted: boolean;
}

function node(): Trie {
  return { children: new Map(), total: 0, wanted: 0, leafWanted: false };
}

function insert(root: Trie, fqn: readonly string[], field: 'total' | 'wanted'): void {
  let t = root;
  t[field]++;
  for (const part of fqn) {
    let next = t.children.get(part);
    if (!next) {
      next = node();
      t.children.set(part, next);
    }
    t = next;
    t[field]++;
  }
  if (field === 'wanted') t.leafWanted = true;
}

/**
 * `fqn:` selectors covering exactly the wanted nodes among all buildable ones: a prefix when all nodes under it
 * are wanted, single nodes otherwise. Output is sorted.
 */
export function dbtSelectors(wanted: readonly (readonly string[])[], buildable: readonly (readonly string[])[]): string[] {
  const root = node();
  for (const f of buildable) insert(root, f, 'total');
  for (const f of wanted) insert(root, f, 'wanted');
  const out: string[] = [];
  const walk = (t: Trie, path: string[]): void => {
    if (t.wanted === 0) return;
    // Everything under this prefix is wanted: the prefix selects it all (the empty path has no selector).
    if (path.length > 0 && t.wanted === t.total) {
      out.push(`fqn:${path.join('.')}`);
      return;
    }
    // A wanted node whose fqn is also a folder's prefix (rare): selecting it selects that folder too.
    if (t.leafWanted) out.push(`fqn:${path.join('.')}`);
    for (const [part, child] of t.children) walk(child, [...path, part]);
  };
  walk(root, []);
  return out.sort();
}
