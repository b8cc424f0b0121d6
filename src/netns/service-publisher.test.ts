import type { Service } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../util/logger.js';
import type { Endpoint } from './pipe.js';
import { NodePortPublisher, nodePorts } from './service-publisher.js';

const svc = (type: string, ports: { nodePort?: number; protocol?: string }[]): Service => ({
  metadata: { name: 's', namespace: 'default' },
  spec: { type, ports: ports.map((p) => ({ port: 80, ...p })) },
});

class FakePublisher {
  readonly calls: string[] = [];
  refuse = new Set<string>();
  publish(listen: Endpoint, target: Endpoint, protocol = 'TCP'): Promise<Endpoint> {
    const key = `${listen.host}:${listen.port}${protocol === 'UDP' ? '/UDP' : ''}`;
    if (this.refuse.has(key)) return Promise.reject(new Error('EADDRINUSE'));
    this.calls.push(`+${key}->${target.host}:${target.port}`);
    return Promise.resolve(listen);
  }
  unpublish(listen: Endpoint, protocol = 'TCP'): Promise<void> {
    this.calls.push(`-${listen.host}:${listen.port}${protocol === 'UDP' ? '/UDP' : ''}`);
    return Promise.resolve();
  }
}

describe('nodePorts', () => {
  it('takes the TCP and UDP NodePorts of NodePort and LoadBalancer Services only', () => {
    const ports = nodePorts([
      svc('NodePort', [{ nodePort: 30001 }, { nodePort: 30002, protocol: 'UDP' }]),
      svc('LoadBalancer', [
        { nodePort: 30003, protocol: 'TCP' },
        { nodePort: 30004, protocol: 'SCTP' },
      ]),
      svc('ClusterIP', [{}]),
    ]);
    expect([...ports].sort()).toEqual(['30001', '30002/UDP', '30003']);
  });
});

describe('NodePortPublisher', () => {
  it('publishes each NodePort on every node address, to the same address inside, and unpublishes removed ones', async () => {
    const fake = new FakePublisher();
    const p = new NodePortPublisher(fake, ['127.0.1.1', '127.0.1.2'], silentLogger());
    await p.update([svc('NodePort', [{ nodePort: 30001 }])]);
    expect(fake.calls).toEqual(['+127.0.1.1:30001->127.0.1.1:30001', '+127.0.1.2:30001->127.0.1.2:30001']);
    fake.calls.length = 0;
    await p.update([svc('NodePort', [{ nodePort: 30002 }])]);
    expect(fake.calls).toEqual([
      '-127.0.1.1:30001',
      '-127.0.1.2:30001',
      '+127.0.1.1:30002->127.0.1.1:30002',
      '+127.0.1.2:30002->127.0.1.2:30002',
    ]);
    expect(p.published()).toEqual(['127.0.1.1:30002', '127.0.1.2:30002']);
  });

  it('publishes and unpublishes UDP NodePorts as UDP', async () => {
    const fake = new FakePublisher();
    const p = new NodePortPublisher(fake, ['127.0.1.1'], silentLogger());
    await p.update([svc('NodePort', [{ nodePort: 30053, protocol: 'UDP' }])]);
    expect(fake.calls).toEqual(['+127.0.1.1:30053/UDP->127.0.1.1:30053']);
    expect(p.published()).toEqual(['127.0.1.1:30053/UDP']);
    await p.update([]);
    expect(fake.calls.at(-1)).toBe('-127.0.1.1:30053/UDP');
  });

  it('retries a port the host refused on the next update', async () => {
    const fake = new FakePublisher();
    fake.refuse.add('127.0.1.1:30001');
    const p = new NodePortPublisher(fake, ['127.0.1.1'], silentLogger());
    const services = [svc('NodePort', [{ nodePort: 30001 }])];
    await p.update(services);
    expect(p.published()).toEqual([]);
    fake.refuse.clear();
    await p.update(services);
    expect(p.published()).toEqual(['127.0.1.1:30001']);
  });
});
