/**
 * A real Prometheus server (Debian's `prometheus` package) for tests: its own port, a temporary data
 * directory, scraping the targets it is given every second; queried over its HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './nats-server.js';

export const prometheusBinary = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

/** One sample of an instant query: its labels and value. */
export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

export class Prometheus {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly output: string[],
  ) {}

  /** Starts Prometheus scraping `jobs` (job name → `host:port` targets) every second. */
  static async start(jobs: Readonly<Record<string, readonly string[]>>): Promise<Prometheus> {
    if (!existsSync(prometheusBinary)) throw new Error(`${prometheusBinary} not found: install Debian's prometheus package (apt-get install prometheus), as .ci/run does`);
    const dir = mkdtempSync(join(tmpdir(), 'sagaflow-prometheus-'));
    const scrape = Object.entries(jobs)
      .map(([job, targets]) => `  - job_name: ${job}\n    static_configs:\n      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`)
      .join('\n');
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n${scrape}\n`);
    const port = await freePort();
    const output: string[] = [];
    const child = spawn(
      prometheusBinary,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const server = new Prometheus(`http://127.0.0.1:${port}`, child, dir, output);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${output.join('')}`);
      const ready = await fetch(`${server.url}/-/ready`).then((r) => r.ok, () => false);
      if (ready) return server;
      if (Date.now() > deadline) throw new Error(`prometheus not ready after 30 s: ${output.join('')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Runs an instant PromQL query; throws with Prometheus' own error when it refuses the query. */
  async query(promql: string): Promise<Sample[]> {
    const response = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success' || body.data === undefined) throw new Error(`PromQL refused: ${promql}: ${body.error ?? response.statusText}`);
    if (body.data.resultType === 'scalar') return [{ metric: {}, value: Number((body.data.result as unknown as [number, string])[1]) }];
    return body.data.result.map((sample) => ({ metric: sample.metric, value: Number(sample.value[1]) }));
  }

  /** The value of a query that yields one sample (0 when it yields none). */
  async value(promql: string): Promise<number> {
    const samples = await this.query(promql);
    if (samples.length > 1) throw new Error(`${promql} gave ${samples.length} samples, expected one`);
    return samples[0]?.value ?? 0;
  }

  /** The health of each scrape target, by job and address. */
  async targets(): Promise<{ job: string; url: string; health: string; lastError: string }[]> {
    const body = (await (await fetch(`${this.url}/api/v1/targets`)).json()) as { data: { activeTargets: { labels: { job: string }; scrapeUrl: string; health: string; lastError: string }[] } };
    return body.data.activeTargets.map((t) => ({ job: t.labels.job, url: t.scrapeUrl, health: t.health, lastError: t.lastError }));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
