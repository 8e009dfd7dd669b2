/**
 * Tracing for the processes Sagaflow ships (`sagaflow run`, the example workers): an OpenTelemetry
 * SDK exporting over OTLP/HTTP, configured by the standard environment variables, started only when
 * they ask for it. The engine and worker libraries use the OpenTelemetry API alone; an application
 * that embeds them registers its own SDK instead.
 */

/** A started tracer provider: flush and stop it before the process exits. */
export interface Tracing {
  /** Where spans go (the OTLP/HTTP traces endpoint). */
  readonly endpoint: string;
  shutdown(): Promise<void>;
}

/**
 * Starts tracing when the environment asks for it: `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, or `OTEL_TRACES_EXPORTER=otlp`; `OTEL_TRACES_EXPORTER=none`
 * or `OTEL_SDK_DISABLED=true` turns it off. The service is `OTEL_SERVICE_NAME`, else `serviceName`;
 * `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*` and the exporter's own variables
 * apply as the SDK documents them. Registers the W3C trace context propagator and async context.
 * @returns the provider, or `null` when tracing is off.
 */
export async function startTracingFromEnv(serviceName: string, env: NodeJS.ProcessEnv = process.env): Promise<Tracing | null> {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || undefined;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' || exporter === 'none') return null;
  if (traces === undefined && base === undefined && exporter !== 'otlp') return null;
  if (exporter !== undefined && exporter !== 'otlp') throw new Error(`OTEL_TRACES_EXPORTER=${exporter} is not supported here: use otlp (OTLP over HTTP) or none`);
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, resources] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': serviceName }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  provider.register();
  return {
    endpoint: traces ?? `${(base ?? 'http://localhost:4318').replace(/\/$/u, '')}/v1/traces`,
    shutdown: () => provider.shutdown(),
  };
}
