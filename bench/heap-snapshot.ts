/**
 * Summarises a V8 heap snapshot (`node --heapsnapshot-signal=…`): the live heap (V8 collects garbage
 * before it writes a snapshot) and the largest kinds of objects by their own size.
 */
import { readFileSync } from 'node:fs';

interface HeapSnapshotFile {
  readonly snapshot: { readonly meta: { readonly node_fields: readonly string[]; readonly node_types: readonly [readonly string[], ...unknown[]] } };
  readonly nodes: readonly number[];
  readonly strings: readonly string[];
}

/** What a snapshot holds: live megabytes, and the top kinds (`object:<constructor>`, `closure:<name>`, `string`, …). */
export interface HeapSummary {
  readonly liveMb: number;
  readonly top: readonly { readonly kind: string; readonly mb: number; readonly count: number }[];
}

export function summariseHeapSnapshot(path: string, topN = 12): HeapSummary {
  const snapshot = JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshotFile;
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const kinds = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt] ?? 0] ?? '?';
    const size = snapshot.nodes[i + sizeAt] ?? 0;
    const kind = type === 'object' || type === 'closure' || type === 'native' ? `${type}:${snapshot.strings[snapshot.nodes[i + nameAt] ?? 0] ?? '?'}` : type;
    const entry = kinds.get(kind) ?? { bytes: 0, count: 0 };
    entry.bytes += size;
    entry.count += 1;
    kinds.set(kind, entry);
    total += size;
  }
  const mb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
  const top = [...kinds]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, topN)
    .map(([kind, { bytes, count }]) => ({ kind, mb: mb(bytes), count }));
  return { liveMb: mb(total), top };
}
