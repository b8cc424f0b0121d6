// metrics-server inside the apiserver: every resolution period, fetch each node's kubelet /stats/summary into the store.
import type { Node } from 'kubernetes-types/core/v1.js';
import type { ApiHandler, KubeList } from '../../api/request.js';
import { realClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { KubeletDialError, kubeletEndpoint, type KubeletClient } from '../kubelet-client.js';
import { MetricsStore, type Summary } from './store.js';

const SYSTEM = { username: 'system:apiserver', groups: ['system:masters'] };

export interface MetricsScraperOptions {
  handler: ApiHandler;
  /** the apiserver's client for kubelets (its own certificate; kubelets' certificates verified; no token) */
  kubelets?: KubeletClient;
  logger: Logger;
  /** metrics-server's --metric-resolution (15 s); kubemu default 1 s */
  resolutionMs?: number;
  clock?: Clock;
  /** how a summary is fetched (tests); default fetchKubeletSummary with `kubelets` */
  fetchSummary?: (node: Node, timeoutMs: number) => Promise<Summary>;
}

export async function fetchKubeletSummary(
  kubelets: KubeletClient,
  node: Node,
  timeoutMs: number,
): Promise<Summary> {
  const endpoint = kubeletEndpoint(node);
  if (!endpoint) throw new Error(`node "${node.metadata?.name}" has no kubelet endpoint`);
  const r = await kubelets.getText(endpoint, '/stats/summary?only_cpu_and_memory=true', timeoutMs);
  if (r.status !== 200) throw new Error(`kubelet answered ${r.status}: ${r.body.slice(0, 200)}`);
  return JSON.parse(r.body) as Summary;
}

export class MetricsScraper {
  readonly store: MetricsStore;
  private readonly opts: MetricsScraperOptions;
  private readonly clock: Clock;
  private readonly resolutionMs: number;
  private readonly log: Logger;
  private timer: { cancel(): void } | undefined;
  private stopped = false;
  /** the last error per failing node, so a persistent one is warned about once */
  private readonly failing = new Map<string, string>();

  constructor(opts: MetricsScraperOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.resolutionMs = opts.resolutionMs ?? 1_000;
    this.log = opts.logger;
    // a point is served for a few periods after its node stops answering, as metrics-server keeps its last good scrape
    this.store = new MetricsStore({
      now: () => this.clock.now(),
      maxAgeMs: Math.max(10_000, 5 * this.resolutionMs),
    });
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      void this.scrape().finally(() => this.schedule(this.resolutionMs));
    }, ms);
  }

  /** one pass over every node, in parallel; a node that fails keeps its last points until they expire */
  async scrape(): Promise<void> {
    let nodes: Node[];
    try {
      const r = await this.opts.handler.handle({
        verb: 'list',
        group: '',
        version: 'v1',
        resource: 'nodes',
        options: {},
        user: SYSTEM,
      });
      nodes = (r.body as KubeList).items as Node[];
    } catch (err) {
      this.log.warn({ err }, 'metrics scrape: cannot list nodes');
      return;
    }
    this.store.retainNodes(new Set(nodes.map((n) => n.metadata?.name ?? '')));
    const { kubelets } = this.opts;
    const fetch =
      this.opts.fetchSummary ??
      (kubelets
        ? (node: Node, ms: number) => fetchKubeletSummary(kubelets, node, ms)
        : () => Promise.reject(new Error('no kubelet client')));
    const timeoutMs = Math.max(500, Math.min(10_000, this.resolutionMs * 0.9));
    await Promise.all(
      nodes.map(async (node) => {
        const name = node.metadata?.name ?? '';
        if (!kubeletEndpoint(node)) return;
        try {
          const summary = await fetch(node, timeoutMs);
          this.store.ingest(name, summary, this.clock.now());
          this.failing.delete(name);
        } catch (err) {
          const message = (err as Error).message;
          // a kubelet whose certificate does not verify is worth a warning (once per change), not a debug line
          if (err instanceof KubeletDialError && /x509:/.test(message) && this.failing.get(name) !== message)
            this.log.warn({ node: name, err: message }, "metrics scrape: refusing the kubelet's certificate");
          else this.log.debug({ node: name, err: message }, 'metrics scrape failed');
          this.failing.set(name, message);
        }
      }),
    );
  }
}
