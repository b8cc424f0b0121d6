// metrics-server inside the apiserver: every resolution period, fetch each node's kubelet /stats/summary into the store.
import https from 'node:https';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { ApiHandler, KubeList } from '../../api/request.js';
import { realClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { MetricsStore, type Summary } from './store.js';

const SYSTEM = { username: 'system:apiserver', groups: ['system:masters'] };

export interface MetricsScraperOptions {
  handler: ApiHandler;
  /** bearer tokens to try on a node's kubelet, in order on 401 (`tokensFromStateDir`) */
  kubeletTokens(nodeName: string): string[];
  logger: Logger;
  /** metrics-server's --metric-resolution (15 s); kubemu default 1 s */
  resolutionMs?: number;
  clock?: Clock;
  /** how a summary is fetched (tests) */
  fetchSummary?: (node: Node, tokens: string[], timeoutMs: number) => Promise<Summary>;
}

export function kubeletAddress(node: Node): { host: string; port: number } | undefined {
  const addrs = node.status?.addresses ?? [];
  const host = (addrs.find((a) => a.type === 'InternalIP') ?? addrs[0])?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  return host && port ? { host, port } : undefined;
}

function getJson(
  url: string,
  token: string | undefined,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      {
        // as upstream without --kubelet-certificate-authority: the kubelet's certificate is not verified
        rejectUnauthorized: false,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.once('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs}ms`)));
    req.once('error', reject);
  });
}

export async function fetchKubeletSummary(node: Node, tokens: string[], timeoutMs: number): Promise<Summary> {
  const addr = kubeletAddress(node);
  if (!addr) throw new Error(`node "${node.metadata?.name}" has no kubelet endpoint`);
  const url = `https://${addr.host}:${addr.port}/stats/summary?only_cpu_and_memory=true`;
  let last = { status: 0, body: '' };
  for (const token of tokens.length ? tokens : [undefined]) {
    last = await getJson(url, token, timeoutMs);
    if (last.status !== 401) break;
  }
  if (last.status !== 200) throw new Error(`kubelet answered ${last.status}: ${last.body.slice(0, 200)}`);
  return JSON.parse(last.body) as Summary;
}

export class MetricsScraper {
  readonly store: MetricsStore;
  private readonly opts: MetricsScraperOptions;
  private readonly clock: Clock;
  private readonly resolutionMs: number;
  private readonly log: Logger;
  private timer: { cancel(): void } | undefined;
  private stopped = false;

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
    const fetch = this.opts.fetchSummary ?? fetchKubeletSummary;
    const timeoutMs = Math.max(500, Math.min(10_000, this.resolutionMs * 0.9));
    await Promise.all(
      nodes.map(async (node) => {
        const name = node.metadata?.name ?? '';
        if (!kubeletAddress(node)) return;
        try {
          const summary = await fetch(node, this.opts.kubeletTokens(name), timeoutMs);
          this.store.ingest(name, summary, this.clock.now());
        } catch (err) {
          this.log.debug({ node: name, err: (err as Error).message }, 'metrics scrape failed');
        }
      }),
    );
  }
}
