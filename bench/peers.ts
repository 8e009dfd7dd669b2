/**
 * The best peer figures the targets are compared with: by default those of ../shared/peers/README.md
 * (medians, measured on another machine of the same kind); with `--peers FILE,…`, the result files of
 * peer runs made alongside, on the same machine just before or after (`bash ../shared/peers/run-restate.sh
 * --out FILE`, likewise run-dbos.sh; runs at concurrency 1 give the p50 figures), the better peer per figure.
 */
import { readFileSync } from 'node:fs';

/** One figure of the best peer: its value and who measured it. */
export interface PeerFigure {
  readonly value: number;
  readonly who: string;
}

/** The peers measured by ../shared/peers. */
export const peerNames = ['Restate', 'DBOS'] as const;
export type PeerName = (typeof peerNames)[number];

/**
 * Per workload: the best peer's throughput and p99 at 100 in flight and p50 at concurrency 1, and each
 * peer's throughput at 100 in flight (the targets are multiples of each).
 */
export type PeerFigures = Readonly<
  Record<'W1' | 'W2', { readonly sagasPerS: PeerFigure; readonly p99: PeerFigure; readonly p50c1: PeerFigure; readonly sagasPerSOf: Readonly<Record<PeerName, PeerFigure>> }>
>;

/** ../shared/peers/README.md's medians (DBOS in process, its default pool). */
export const readmePeers: PeerFigures = {
  W1: {
    sagasPerS: { value: 566.5, who: 'Restate' },
    p99: { value: 274.6, who: 'Restate' },
    p50c1: { value: 5.0, who: 'DBOS' },
    sagasPerSOf: { Restate: { value: 566.5, who: 'Restate' }, DBOS: { value: 320.5, who: 'DBOS' } },
  },
  W2: {
    sagasPerS: { value: 479.2, who: 'Restate' },
    p99: { value: 295.3, who: 'Restate' },
    p50c1: { value: 7.5, who: 'DBOS' },
    sagasPerSOf: { Restate: { value: 479.2, who: 'Restate' }, DBOS: { value: 212.3, who: 'DBOS' } },
  },
};

interface PeerResultFile {
  readonly peer: string;
  readonly opts: { readonly concurrency: number };
  readonly workloads: Partial<Record<'W1' | 'W2', { readonly median: { readonly sagasPerS: number; readonly p50: number; readonly p99: number } }>>;
}

const display = (peer: string): string => (peer === 'dbos' ? 'DBOS' : peer.charAt(0).toUpperCase() + peer.slice(1));

/**
 * The best figures among peer result files. A figure no file has (no concurrency-1 run, say) keeps
 * the README's, marked as such.
 * @throws Error naming the file when one cannot be read or is not a peer result.
 */
export function peersFromFiles(paths: readonly string[]): PeerFigures {
  const files = paths.map((path) => {
    try {
      const file = JSON.parse(readFileSync(path, 'utf8')) as PeerResultFile;
      if (typeof file.peer !== 'string' || typeof file.opts?.concurrency !== 'number' || typeof file.workloads !== 'object') throw new Error('not a peer result (peer, opts.concurrency, workloads)');
      return file;
    } catch (error) {
      throw new Error(`--peers ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  const best = (
    wl: 'W1' | 'W2',
    concurrency: number,
    pick: (m: { sagasPerS: number; p50: number; p99: number }) => number,
    higher: boolean,
    fallback: PeerFigure,
    peer?: PeerName,
  ): PeerFigure => {
    let found: PeerFigure | null = null;
    for (const file of files) {
      if (peer !== undefined && display(file.peer) !== peer) continue;
      const median = file.opts.concurrency === concurrency ? file.workloads[wl]?.median : undefined;
      if (median === undefined) continue;
      const value = pick(median);
      if (found === null || (higher ? value > found.value : value < found.value)) found = { value, who: `${display(file.peer)}, run alongside` };
    }
    return found ?? { ...fallback, who: `${fallback.who}, README` };
  };
  const figures = (wl: 'W1' | 'W2') => ({
    sagasPerS: best(wl, 100, (m) => m.sagasPerS, true, readmePeers[wl].sagasPerS),
    p99: best(wl, 100, (m) => m.p99, false, readmePeers[wl].p99),
    p50c1: best(wl, 1, (m) => m.p50, false, readmePeers[wl].p50c1),
    sagasPerSOf: {
      Restate: best(wl, 100, (m) => m.sagasPerS, true, readmePeers[wl].sagasPerSOf.Restate, 'Restate'),
      DBOS: best(wl, 100, (m) => m.sagasPerS, true, readmePeers[wl].sagasPerSOf.DBOS, 'DBOS'),
    },
  });
  return { W1: figures('W1'), W2: figures('W2') };
}
