import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';
import { Chart } from '../parts/chart.js';
import { duration, when } from '../parts/format.js';
import { statuses } from '../parts/status.js';

interface Overview {
  readonly counts: Record<string, Partial<Record<string, number>>>;
  readonly stepMs: number;
  readonly series: readonly { at: number; completed: number; compensated: number; other: number; p50: number | null; p95: number | null; p99: number | null }[];
}
interface Engines {
  readonly namespace: string;
  readonly answering: { readonly sagas: readonly string[]; readonly startedAt: number } | null;
  readonly problem: string | null;
  readonly partitions: number | null;
  readonly leaseTtlMs: number | null;
  readonly engines: readonly { id: string; host: string; startedAt: number; partitions: readonly number[]; oldestLeaseAgeMs: number | null; instancesInMemory: number; timersArmed: number }[];
  readonly unowned: readonly number[];
}

/** Counts per status and saga, throughput and latency over the last hour, and the engines. */
export function OverviewPage() {
  const [overview, setOverview] = useState<Overview | null>(null);
  const [engines, setEngines] = useState<Engines | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    const load = (): void => {
      get<Overview>('/api/overview?minutes=60').then(setOverview, (error: Error) => setProblem(error.message));
      get<Engines>('/api/engines').then(setEngines, (error: Error) => setProblem(error.message));
    };
    load();
    const timer = setInterval(load, 10_000);
    return () => clearInterval(timer);
  }, []);
  const x = overview?.series.map((point) => point.at / 1000) ?? [];
  const perMinute = (overview?.stepMs ?? 60_000) / 60_000;
  return (
    <section>
      <h2>Overview</h2>
      {problem !== null && (
        <p class="refused" role="alert">
          {problem}
        </p>
      )}
      {engines !== null && (
        <div class={`health ${engines.answering === null ? 'down' : 'up'}`} aria-label="Engines">
          <h3>Engines in {engines.namespace}</h3>
          <p>
            {engines.answering === null ? engines.problem : `up; sagas ${engines.answering.sagas.join(', ')}`}
            {engines.partitions !== null && ` · ${engines.partitions} partitions, lease TTL ${duration(engines.leaseTtlMs)}`}
            {engines.unowned.length > 0 && ` · ${engines.unowned.length} partition(s) without an engine`}
          </p>
          <table>
            <thead>
              <tr>
                <th>Engine</th>
                <th>Host</th>
                <th>Since</th>
                <th>Partitions</th>
                <th>Oldest lease</th>
                <th>In memory</th>
                <th>Timers</th>
              </tr>
            </thead>
            <tbody>
              {engines.engines.map((engine) => (
                <tr>
                  <td>{engine.id}</td>
                  <td>{engine.host}</td>
                  <td>{when(engine.startedAt)}</td>
                  <td class="number">{engine.partitions.length}</td>
                  <td class="number">{duration(engine.oldestLeaseAgeMs)}</td>
                  <td class="number">{engine.instancesInMemory}</td>
                  <td class="number">{engine.timersArmed}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {overview !== null && (
        <>
          <h3>Instances by saga and status</h3>
          <table class="counts">
            <thead>
              <tr>
                <th>Saga</th>
                {statuses.map((status) => (
                  <th>{status}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {Object.entries(overview.counts).map(([saga, byStatus]) => (
                <tr data-saga={saga}>
                  <td>
                    <a href={`/instances?saga=${encodeURIComponent(saga)}`}>{saga}</a>
                  </td>
                  {statuses.map((status) => (
                    <td class="number">
                      {(byStatus[status] ?? 0) > 0 ? <a href={`/instances?saga=${encodeURIComponent(saga)}&status=${status}`}>{byStatus[status]}</a> : 0}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          <Chart
            title={`Instances ended per ${perMinute === 1 ? 'minute' : `${perMinute} minutes`}`}
            unit="instances"
            x={x}
            series={[
              { label: 'completed', values: overview.series.map((p) => p.completed), colour: '#2e7d32' },
              { label: 'compensated', values: overview.series.map((p) => p.compensated), colour: '#ef6c00' },
              { label: 'other', values: overview.series.map((p) => p.other), colour: '#6a1b9a' },
            ]}
          />
          <Chart
            title="Start → end, percentiles of the instances ended in each interval"
            unit="ms"
            x={x}
            series={[
              { label: 'p50', values: overview.series.map((p) => p.p50), colour: '#1565c0' },
              { label: 'p95', values: overview.series.map((p) => p.p95), colour: '#f9a825' },
              { label: 'p99', values: overview.series.map((p) => p.p99), colour: '#c62828' },
            ]}
          />
        </>
      )}
    </section>
  );
}
