import { useEffect } from 'preact/hooks';
import type { InstanceRow } from '../api.js';

/** Calls `onInstance` with every status change the engines announce, while the component is shown (server-sent events). */
export function useLive(onInstance: (row: InstanceRow) => void): void {
  useEffect(() => {
    const source = new EventSource('/api/live');
    const listener = (event: MessageEvent<string>): void => onInstance(JSON.parse(event.data) as InstanceRow);
    source.addEventListener('instance', listener);
    return () => source.close();
  }, [onInstance]);
}
