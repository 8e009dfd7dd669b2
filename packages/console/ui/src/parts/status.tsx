/** A status as a coloured badge (the colours of `sagaflow list` on a terminal). */
export function Status({ status }: { readonly status: string }) {
  return <span class={`badge status-${status}`}>{status}</span>;
}

export const statuses = ['pending', 'running', 'compensating', 'completed', 'compensated', 'cancelled', 'stuck'] as const;
