/** Times and durations for people, UTC as the command prints them. */
export const when = (at: number | string | null): string => (at === null ? '–' : `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')}Z`);

export function duration(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return minutes < 60 ? `${minutes} min ${Math.round((ms % 60_000) / 1000)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export const json = (value: unknown): string => JSON.stringify(value, null, 2) ?? 'undefined';
