// The common bootstrap of kubemu's component processes: flags, kubeconfig, apiserver connection, /metrics, signals.
import { parseDuration } from './duration.js';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { fromKubeconfig, type ApiConnection, type KubeClient } from '../client/index.js';
import type { KubeconfigCredentials } from './kubeconfig.js';
import { createLogger, type Logger } from './logger.js';
import { delegatedAuthorizer } from './delegated-auth.js';
import { serveMetrics, type MetricsServer } from './metrics.js';
import { runUntilSignal, type Stoppable } from './run.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** the flags every component takes */
const COMMON_OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
} as const;

/** spread into a component's options to serve /metrics (and /healthz) with `ctx.serveMetrics` */
export const METRICS_OPTIONS = {
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string', default: '127.0.0.1' },
} as const;

export type ComponentValues<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: typeof COMMON_OPTIONS & O; strict: true }>
>['values'];

/** A bad command line: logged as fatal, then the process exits 2. */
/** a `--flag 30s` that must be a positive duration, or a UsageError that says so */
export function durationFlag(flag: string, text: string): number {
  let ms = NaN;
  try {
    ms = parseDuration(text);
  } catch {
    /* reported below */
  }
  if (!(ms > 0))
    throw new UsageError(`--${flag} ${JSON.stringify(text)}: expected a duration such as 30s or 500ms`);
  return ms;
}

export class UsageError extends Error {
  constructor(
    message: string,
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** throws the usual UsageError when neither --kubeconfig nor $KUBECONFIG named a file */
export function requireKubeconfig(kubeconfig: string | undefined): asserts kubeconfig is string {
  if (!kubeconfig) throw new UsageError('--kubeconfig is required');
}

export interface ComponentContext<O extends Options, P> {
  values: ComponentValues<O>;
  /** what `check` returned */
  checked: P;
  logger: Logger;
  /** reads the kubeconfig and connects to the apiserver; the connection is closed after the component */
  connect: (clientLogger?: Logger) => {
    client: KubeClient;
    connection: ApiConnection;
    credentials: KubeconfigCredentials;
  };
  /**
   * serves /metrics when --metrics-port is set (see METRICS_OPTIONS); closed after the component. /metrics is behind
   * delegated authentication and authorization (a TokenReview and a SubjectAccessReview made with the component's
   * credential, after `connect`), unless `publicMetrics` is set (kube-proxy's, open as upstream's)
   */
  serveMetrics: (
    healthy?: () => boolean,
    message?: string,
    publicMetrics?: boolean,
  ) => Promise<MetricsServer | undefined>;
}

export interface ComponentSpec<O extends Options, P> {
  /** the logger's name */
  name: string;
  argv: string[];
  /** the component's own flags, besides --kubeconfig and --context */
  options: O;
  /**
   * Checks the flags before anything starts (throw UsageError to exit 2); what it returns reaches `start`.
   * `kubeconfig` is --kubeconfig or else $KUBECONFIG; it is required after `check` in any case.
   */
  check?(values: ComponentValues<O>, kubeconfig: string | undefined): P;
  /** builds and starts the component; a rejection logs 'failed to start' and exits 1 */
  start(ctx: ComponentContext<O, P>): Promise<Stoppable>;
}

/** Parses the command line strictly, checks it, then runs the component until SIGINT/SIGTERM. */
export function runComponent<O extends Options, P = undefined>(spec: ComponentSpec<O, P>): void {
  const { values } = parseArgs({
    args: spec.argv,
    options: { ...COMMON_OPTIONS, ...spec.options },
    strict: true,
  }) as { values: ComponentValues<O> };
  // what runComponent itself reads, whatever the component's flags
  const flags = values as Record<string, string | boolean | undefined> & {
    kubeconfig?: string;
    context?: string;
  };
  const log = createLogger(spec.name);
  const kubeconfig = flags.kubeconfig ?? process.env['KUBECONFIG'];
  let checked: P;
  try {
    checked = spec.check ? spec.check(values, kubeconfig) : (undefined as P);
    requireKubeconfig(kubeconfig);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    log.fatal(err.fields, err.message);
    process.exit(2);
  }
  runUntilSignal(log, async () => {
    let connection: ApiConnection | undefined;
    let client: KubeClient | undefined;
    let metrics: MetricsServer | undefined;
    const component = await spec.start({
      values,
      checked,
      logger: log,
      connect(clientLogger = log) {
        const connected = fromKubeconfig(kubeconfig, {
          ...(flags.context ? { context: flags.context } : {}),
          logger: clientLogger,
        });
        connection = connected.connection;
        client = connected.client;
        return connected;
      },
      async serveMetrics(healthy, message = 'serving /metrics', publicMetrics = false) {
        const port = flags['metrics-port'];
        if (typeof port !== 'string') return undefined;
        const host = flags['metrics-host'];
        if (!publicMetrics && !client)
          throw new Error('serveMetrics before connect: /metrics needs the client');
        metrics = await serveMetrics(
          Number(port),
          typeof host === 'string' ? host : undefined,
          healthy,
          publicMetrics || !client ? undefined : delegatedAuthorizer(client),
        );
        log.info({ port: metrics.port }, message);
        return metrics;
      },
    });
    return {
      async close() {
        await component.close();
        await metrics?.close();
        await connection?.close();
      },
    };
  });
}
