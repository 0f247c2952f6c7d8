/**
 * Test helper: a snapshot of a folder tree (every entry's kind, size and mtime, symlinks not followed) and the
 * difference between two snapshots — to prove a test wrote nowhere it should not.
 *
 * @module
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/** Relative path (with '/') → "kind:size:mtimeMs". */
export type TreeSnapshot = Map<string, string>;

/**
 * Walks `root` (at most `maxEntries` entries).
 * @throws when the tree is larger than maxEntries
 */
export async function snapshotTree(root: string, maxEntries = 200_000): Promise<TreeSnapshot> {
  const out: TreeSnapshot = new Map();
  const walk = async (dir: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return; // vanished meanwhile
    }
    for (const name of names) {
      const full = path.join(dir, name);
      let st;
      try {
        st = await lstat(full);
      } catch {
        continue;
      }
      const rel = path.relative(root, full).split(path.sep).join('/');
      const kind = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
      out.set(rel, `${kind}:${st.isDirectory() ? 0 : st.size}:${st.isDirectory() ? 0 : st.mtimeMs}`);
      if (out.size > maxEntries) throw new Error(`more than ${maxEntries} entries under ${root}`);
      if (st.isDirectory()) await walk(full);
    }
  };
  await walk(root);
  return out;
}

/** What changed between two snapshots: paths added, removed, or whose kind/size/mtime changed. */
export function diffTrees(before: TreeSnapshot, after: TreeSnapshot): { added: string[]; removed: string[]; changed: string[] } {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  for (const [p, v] of after) {
    const was = before.get(p);
    if (was === undefined) added.push(p);
    else if (was !== v) changed.push(p);
  }
  for (const p of before.keys()) if (!after.has(p)) removed.push(p);
  return { added, removed, changed };
}
