// The ingress controller: watches Ingresses, IngressClasses, Services, EndpointSlices and Secrets, rebuilds the
// gateway's routing table on every change, and writes the IngressClass, Ingress status and Warning Events.
import type { Secret, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import type { SecureContext } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  EventRecorder,
  Informer,
  WorkQueue,
  keyOf,
  referenceTo,
  type KubeClient,
  type ListerWatcher,
  type ObjectWithMeta,
} from '../client/index.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { CertificateCache } from './certificates.js';
import type { IngressGateway } from './gateway.js';
import {
  CLASS_NAME,
  CONTROLLER_NAME,
  DEFAULT_CLASS_ANNOTATION,
  RoutingTable,
  isOurIngress,
  ourClassIsDefault,
} from './routing-table.js';

export const COMPONENT = 'kubemu-ingress';
/** the work queue key that means "rebuild the table"; others are `status:<ns>/<name>` */
const REBUILD = 'rebuild';

export interface IngressControllerOptions {
  client: KubeClient;
  gateway: IngressGateway;
  /** the address written to status.loadBalancer.ingress[].ip */
  statusIp: string;
  logger?: Logger;
}

export class IngressController {
  private readonly client: KubeClient;
  private readonly gateway: IngressGateway;
  private readonly log: Logger;
  private readonly events: EventRecorder;
  private readonly queue: WorkQueue<string>;
  private readonly ingresses: Informer<Ingress>;
  private readonly classes: Informer<IngressClass>;
  private readonly services: Informer<Service>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly secrets: Informer<Secret>;
  private readonly certs = new CertificateCache();
  /** warnings already reported, so a rebuild doesn't repeat them */
  private readonly warned = new Set<string>();
  private workers: Promise<void> | undefined;

  constructor(private readonly opts: IngressControllerOptions) {
    if (!opts.client || !opts.gateway) throw new TypeError('IngressController needs a client and a gateway');
    this.client = opts.client;
    this.gateway = opts.gateway;
    this.log = (opts.logger ?? silentLogger()).child({ controller: 'ingress' });
    this.events = new EventRecorder({ client: this.client, component: COMPONENT, logger: this.log });
    this.queue = new WorkQueue<string>({ name: 'ingress', logger: this.log });
    const informer = <T extends ObjectWithMeta>(name: string, source: ListerWatcher<T>): Informer<T> =>
      new Informer<T>({ source, name, logger: this.log });
    this.ingresses = informer<Ingress>('ingresses', this.client.ingresses);
    this.classes = informer<IngressClass>('ingressclasses', this.client.ingressClasses);
    this.services = informer<Service>('services', this.client.services);
    this.slices = informer<EndpointSlice>('endpointslices', this.client.endpointSlices);
    this.secrets = informer<Secret>('secrets', this.client.secrets);
    const rebuild = {
      onAdd: () => this.queue.add(REBUILD),
      onUpdate: () => this.queue.add(REBUILD),
      onDelete: () => this.queue.add(REBUILD),
    };
    for (const inf of [
      this.ingresses,
      this.classes,
      this.services,
      this.slices,
    ] as Informer<ObjectWithMeta>[])
      inf.addEventHandler(rebuild);
    // only Secrets some Ingress names matter; the rest would rebuild for nothing
    const onSecret = (s: Secret): void => {
      if (this.gateway.current().table.ingresses.some((i) => referencesSecret(i, s))) this.queue.add(REBUILD);
    };
    this.secrets.addEventHandler({ onAdd: onSecret, onUpdate: (_o, s) => onSecret(s), onDelete: onSecret });
  }

  async start(): Promise<void> {
    await this.ensureIngressClass();
    const all = [
      this.ingresses,
      this.classes,
      this.services,
      this.slices,
      this.secrets,
    ] as Informer<ObjectWithMeta>[];
    for (const inf of all) inf.start();
    await Promise.all(all.map((i) => i.waitForSync()));
    this.rebuild();
    this.workers = this.queue.runWorkers(1, (key) => this.sync(key));
  }

  async stop(): Promise<void> {
    for (const inf of [
      this.ingresses,
      this.classes,
      this.services,
      this.slices,
      this.secrets,
    ] as Informer<ObjectWithMeta>[])
      inf.stop();
    this.queue.shutDown();
    await this.workers;
  }

  /** IngressClass `kubemu` (controller kubemu.dev/ingress), the cluster default, made if missing */
  private async ensureIngressClass(): Promise<void> {
    const cls: IngressClass = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: CLASS_NAME, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
      spec: { controller: CONTROLLER_NAME },
    };
    // an apiserver that is away (restarting, paused, its connection being re-made) is waited for, as a
    // controller retries; only a refusal ends the start-up
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.ingressClasses.create(cls);
        this.log.info({ class: CLASS_NAME }, 'created IngressClass');
        return;
      } catch (err) {
        const code = (err as { code?: number }).code ?? 0;
        if (code === 409) return;
        if (code !== 429 && code < 500) throw err;
        this.log.warn({ err, attempt }, 'could not create the IngressClass yet; retrying');
        await sleep(Math.min(2_000, 100 * 2 ** attempt));
      }
    }
  }

  private async sync(key: string): Promise<void> {
    if (key === REBUILD) return this.rebuild();
    if (key.startsWith('status:')) return this.syncStatus(key.slice('status:'.length));
  }

  private rebuild(): void {
    const defaultIsOurs = ourClassIsDefault(this.classes.store.list());
    const ours = this.ingresses.store.list().filter((i) => isOurIngress(i, defaultIsOurs));
    const table = RoutingTable.build({
      ingresses: ours,
      services: this.services.store.list(),
      endpointSlices: this.slices.store.list(),
    });
    const contexts = new Map<string, SecureContext>();
    for (const binding of new Map(
      [...table.tls.values()].map((b) => [`${b.ingress} ${b.secret}`, b]),
    ).values()) {
      const secret = this.secrets.store.get(binding.secret);
      const result = secret
        ? this.certs.get(binding.secret, secret)
        : { error: `secret ${binding.secret} not found` };
      if ('context' in result) contexts.set(binding.secret, result.context);
      else this.warn(binding.ingress, secret?.metadata?.resourceVersion ?? '', result.error);
    }
    this.certs.retain(new Set(contexts.keys()));
    this.gateway.setSnapshot({ table, contexts });
    this.log.debug({ ingresses: ours.length, tlsHosts: table.tls.size }, 'routing table rebuilt');
    for (const ing of ours) {
      if (!hasStatusIp(ing, this.opts.statusIp)) this.queue.add(`status:${keyOf(ing)}`);
    }
  }

  private async syncStatus(key: string): Promise<void> {
    const cached = this.ingresses.store.get(key);
    if (!cached || hasStatusIp(cached, this.opts.statusIp)) return;
    const ing: Ingress = structuredClone(cached);
    ing.status = { loadBalancer: { ingress: [{ ip: this.opts.statusIp }] } };
    try {
      await this.client.ingresses.updateStatus(ing);
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 404) return;
      throw err;
    }
  }

  /** a Warning Event on the Ingress (`kubectl describe ingress` shows it), once per cause */
  private warn(ingressKey: string, secretRv: string, message: string): void {
    const ing = this.ingresses.store.get(ingressKey);
    if (!ing) return;
    const dedupe = `${ing.metadata?.uid} ${ing.metadata?.resourceVersion} ${secretRv} ${message}`;
    if (this.warned.has(dedupe)) return;
    this.warned.add(dedupe);
    if (this.warned.size > 4096) this.warned.delete(this.warned.values().next().value!);
    this.log.warn(
      { ingress: ingressKey, reason: message },
      'TLS secret unusable; serving the default certificate',
    );
    this.events.event(
      referenceTo(ing, 'networking.k8s.io/v1', 'Ingress'),
      'Warning',
      'InvalidTLSSecret',
      `${message}; using the default certificate`,
    );
  }
}

function referencesSecret(ing: Ingress, secret: Secret): boolean {
  return (
    ing.metadata?.namespace === secret.metadata?.namespace &&
    (ing.spec?.tls ?? []).some((t) => t.secretName === secret.metadata?.name)
  );
}

function hasStatusIp(ing: Ingress, ip: string): boolean {
  const lb = ing.status?.loadBalancer?.ingress ?? [];
  return lb.length === 1 && lb[0].ip === ip && !lb[0].hostname;
}
