import type { JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV, type KvOptions } from '@nats-io/kv';
import { checkPartitions, defaultPartitions } from '@sagaflow/core';
import type { Naming } from './naming.js';

/** What is fixed for a namespace when its streams are first created. */
export interface NamespaceConfig {
  /** Partitions of the saga space (see `partitionOf`). */
  readonly partitions: number;
  /** How long a partition lease or an engine's announcement lives without renewal, in ms. */
  readonly leaseTtlMs: number;
}

/** A namespace's settings as asked for; what is left out takes the default (or what the namespace has). */
export interface NamespaceSettings {
  readonly partitions?: number;
  readonly leaseTtlMs?: number;
  /** Replicas of the buckets in a NATS cluster (1, 3 or 5; default 1). */
  readonly replicas?: number;
}

/** Lease TTL of a namespace unless it was created with another. */
export const defaultLeaseTtlMs = 10_000;

/** The shortest lease TTL: renewals every quarter of it must fit between the engine's other work. */
export const minLeaseTtlMs = 2_000;

const settingsKey = 'settings';

/** A namespace's fixed settings differ from those asked for. */
export class NamespaceConfigError extends Error {
  readonly _tag = 'NamespaceConfig';
  constructor(
    readonly namespace: string,
    readonly setting: 'partitions' | 'leaseTtlMs',
    readonly actual: number,
    readonly asked: number,
  ) {
    const option = setting === 'partitions' ? '--partitions' : '--lease-ttl-ms';
    super(
      `Namespace "${namespace}" has ${setting === 'partitions' ? `${actual} partitions` : `a lease TTL of ${actual} ms`}, fixed when its streams were created; ` +
        `${option} ${asked} cannot change it (leave ${option} out, or use a new namespace)`,
    );
    this.name = 'NamespaceConfigError';
  }
}

/**
 * The settings a new namespace would get from `settings` (the defaults for what they leave out).
 * @throws RangeError for a partition count or TTL out of range.
 */
export function wantedConfig(settings: NamespaceSettings): NamespaceConfig {
  return { partitions: checkPartitions(settings.partitions ?? defaultPartitions), leaseTtlMs: checkLeaseTtl(settings.leaseTtlMs ?? defaultLeaseTtlMs) };
}

function checkLeaseTtl(ms: number): number {
  if (!Number.isInteger(ms) || ms < minLeaseTtlMs) throw new RangeError(`Invalid lease TTL ${String(ms)} ms: use a whole number of at least ${minLeaseTtlMs}`);
  return ms;
}

const decoder = new TextDecoder();

function parseConfig(namespace: string, value: Uint8Array): NamespaceConfig {
  const parsed = JSON.parse(decoder.decode(value)) as Partial<NamespaceConfig>;
  if (typeof parsed.partitions !== 'number' || typeof parsed.leaseTtlMs !== 'number') throw new Error(`The settings of namespace "${namespace}" are unreadable: ${decoder.decode(value)}`);
  return { partitions: parsed.partitions, leaseTtlMs: parsed.leaseTtlMs };
}

/**
 * The namespace's settings, fixed on first use: when the namespace has none yet they are written
 * (compare-and-set, so concurrent creators agree on the first); when it has, a setting asked for that
 * differs is refused.
 * @throws NamespaceConfigError when `settings` name a partition count or TTL other than the namespace's.
 * @throws RangeError for a partition count or TTL out of range.
 */
export async function ensureNamespaceConfig(js: JetStreamClient, names: Naming, settings: NamespaceSettings = {}): Promise<NamespaceConfig> {
  const wanted = wantedConfig(settings);
  const kvm = new Kvm(js);
  const kv = await createBucket(kvm, names.buckets.config, { history: 1, replicas: settings.replicas ?? 1 });
  // Written first, read only when the write is refused: the refusal means another process stored its
  // settings, so the bucket is ready to be read. (Reading a bucket another process is still creating
  // can time out, and nats-server 2.9 has been seen to fail on a message request that races the stream.)
  let config: NamespaceConfig | null;
  try {
    await whileStarting(() => kv.create(settingsKey, JSON.stringify(wanted)));
    config = wanted;
  } catch (error) {
    if (!(error instanceof Error && /wrong last sequence/i.test(error.message))) throw error;
    config = await readFrom(await kvm.open(names.buckets.config), names.namespace);
    if (config === null) throw new Error(`The settings of namespace "${names.namespace}" could neither be written nor read`);
  }
  if (settings.partitions !== undefined && settings.partitions !== config.partitions) throw new NamespaceConfigError(names.namespace, 'partitions', config.partitions, settings.partitions);
  if (settings.leaseTtlMs !== undefined && settings.leaseTtlMs !== config.leaseTtlMs) throw new NamespaceConfigError(names.namespace, 'leaseTtlMs', config.leaseTtlMs, settings.leaseTtlMs);
  return config;
}

/**
 * Runs `write`, again while the bucket is still starting: a stream another process has just created
 * may not answer its first writes yet (no responders, or no answer in time); up to six tries over ~3 s.
 */
async function whileStarting<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const starting = error instanceof Error && (error.name === 'JetStreamNotEnabled' || /timeout/i.test(error.message));
      if (!starting || attempt >= 6) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** (attempt - 1)));
    }
  }
}

/**
 * Creates a KV bucket, or opens it if it exists. Safe to run concurrently: when another process
 * creates the same bucket at that moment, the server may refuse this creation (its subjects overlap
 * the new stream's); the bucket then exists, and a second try opens it.
 */
export async function createBucket(kvm: Kvm, name: string, options: Partial<KvOptions>): Promise<KV> {
  try {
    return await kvm.create(name, options);
  } catch (error) {
    if (!(error instanceof Error && /subjects overlap|already in use/i.test(error.message))) throw error;
    return kvm.create(name, options);
  }
}

async function readFrom(kv: KV, namespace: string): Promise<NamespaceConfig | null> {
  const entry = await kv.get(settingsKey);
  return entry === null || entry.operation !== 'PUT' ? null : parseConfig(namespace, entry.value);
}

/** Settings found, by connection (what a JetStream client runs on) and namespace: they never change once written. */
const known = new WeakMap<object, Map<string, NamespaceConfig>>();

/** The connection under a JetStream client (nats.js keeps it as `nc`), or the client itself. */
const connectionOf = (js: JetStreamClient): object => (js as unknown as { nc?: object }).nc ?? js;

/**
 * The namespace's settings as a client reads them (remembered per connection once found), or `null`
 * for a namespace without them: not created yet, or created by an earlier Sagaflow. Creates nothing.
 * @throws the NATS client's error when they cannot be read within `timeoutMs` (no answer, no permission).
 */
export async function readNamespaceConfig(js: JetStreamClient, names: Naming, timeoutMs?: number): Promise<NamespaceConfig | null> {
  const connection = connectionOf(js);
  const cached = known.get(connection)?.get(names.namespace);
  if (cached !== undefined) return cached;
  const kv = await new Kvm(js).open(names.buckets.config);
  // A namespace without the bucket has no settings; any other failure (NATS unreachable, a timeout) is
  // thrown, not taken for "no partitions", which would send the request where it needs forwarding.
  const reading = readFrom(kv, names.namespace).catch((error: unknown) => {
    if (error instanceof Error && /stream not found/i.test(error.message)) return null;
    throw error;
  });
  const config = timeoutMs === undefined ? await reading : await withTimeout(reading, timeoutMs, `reading the settings of namespace "${names.namespace}"`);
  if (config !== null) {
    const byNamespace = known.get(connection) ?? new Map<string, NamespaceConfig>();
    byNamespace.set(names.namespace, config);
    known.set(connection, byNamespace);
  }
  return config;
}

/** `work`, or a rejection once `ms` have passed. */
function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout: no answer within ${ms} ms ${what}`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
