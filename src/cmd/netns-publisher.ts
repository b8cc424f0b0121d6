#!/usr/bin/env node
// The host side of a netns cluster (`kubemu up --network=netns`): `kubemu netns-publisher --kubeconfig FILE
// --sandbox-pid PID [--rootless] --publish HOST:PORT=TARGET:PORT ... --node-ips IP,IP,...`. Publishes the fixed
// addresses (the apiserver, the ingress) first, then every Service's NodePorts on every node's address, by passing
// listening sockets to a forwarder inside the sandbox (src/netns/publisher.ts). The nodes are --node-ips until the
// Nodes are listed, then their InternalIPs: a node added (`kubemu node add`) or removed gets or loses its NodePorts.
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import { Informer } from '../client/index.js';
import { nsenterArgs } from '../netns/holder.js';
import { Publisher, type Endpoint } from '../netns/publisher.js';
import { NodePortPublisher } from '../netns/service-publisher.js';
import { UsageError, runComponent } from '../util/component-main.js';

/** `127.0.0.1:6443` → an endpoint, or a UsageError naming the flag */
export function parseEndpoint(text: string, flag: string): Endpoint {
  const i = text.lastIndexOf(':');
  const port = Number(text.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`--${flag} ${JSON.stringify(text)}: expected HOST:PORT such as 127.0.0.1:6443`);
  return { host: text.slice(0, i), port };
}

export function netnsPublisherMain(argv: string[]): void {
  runComponent({
    name: 'netns-publisher',
    argv,
    options: {
      'sandbox-pid': { type: 'string' },
      rootless: { type: 'boolean', default: false },
      publish: { type: 'string', multiple: true, default: [] },
      'node-ips': { type: 'string', default: '' },
    },
    check(values) {
      const pid = Number(values['sandbox-pid']);
      if (!Number.isInteger(pid) || pid <= 1)
        throw new UsageError(`--sandbox-pid ${JSON.stringify(values['sandbox-pid'])}: expected a PID`);
      const fixed = values.publish.map((spec) => {
        const [listen, target] = spec.split('=');
        if (!listen || !target)
          throw new UsageError(`--publish ${JSON.stringify(spec)}: expected HOST:PORT=TARGET:PORT`);
        return { listen: parseEndpoint(listen, 'publish'), target: parseEndpoint(target, 'publish') };
      });
      const nodeIps = values['node-ips'].split(',').filter((ip) => ip !== '');
      return { pid, fixed, nodeIps };
    },
    async start({ values, checked, logger: log, connect }) {
      const prefix = nsenterArgs({
        pid: checked.pid,
        user: values.rootless,
        net: true,
        mount: true,
        uts: true,
      });
      const publisher = await Publisher.start({ sandboxPrefix: prefix });
      // the apiserver first: this process's own client reaches it through what it publishes
      for (const { listen, target } of checked.fixed) {
        const bound = await publisher.publish(listen, target);
        log.info({ listen: `${bound.host}:${bound.port}`, target }, 'published to the host');
      }
      const nodePorts = new NodePortPublisher(publisher, checked.nodeIps, log);
      const { client } = connect();
      const services = new Informer<Service>({ source: client.services, name: 'services', logger: log });
      const sync = (): void => void nodePorts.update(services.store.list());
      services.addEventHandler({ onAdd: sync, onUpdate: sync, onDelete: sync });
      services.start();
      const nodes = new Informer<Node>({ source: client.nodes, name: 'nodes', logger: log });
      let known = checked.nodeIps.join(',');
      const syncNodes = (): void => {
        const ips = nodes.store
          .list()
          .flatMap(
            (n) => n.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address) ?? [],
          )
          .sort();
        // a Node without its address yet (just registered) keeps what we publish until it has one
        if (ips.length === 0 || ips.join(',') === known) return;
        known = ips.join(',');
        log.info({ nodes: ips }, 'node addresses changed');
        void nodePorts.setNodeIps(ips);
      };
      nodes.addEventHandler({ onAdd: syncNodes, onUpdate: syncNodes, onDelete: syncNodes });
      nodes.start();
      // a NodePort the host refused (a port taken there) is tried again
      const retry = setInterval(sync, 10_000);
      return {
        async close() {
          clearInterval(retry);
          services.stop();
          nodes.stop();
          await publisher.close();
        },
      };
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) netnsPublisherMain(process.argv.slice(2));
