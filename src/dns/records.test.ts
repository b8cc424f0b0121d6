import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { describe, expect, it } from 'vitest';
import { ClusterRecords, type DnsView } from './records.js';
import { respond } from './server.js';
import { CLASS_IN, RCode, RecordType, decodeMessage, encodeQuery } from './wire.js';

const services: Service[] = [
  {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      clusterIP: '127.96.0.20',
      clusterIPs: ['127.96.0.20'],
      ports: [{ name: 'http', port: 80 }, { name: 'DNS', port: 53, protocol: 'UDP' }, { port: 9000 }],
    },
  },
  {
    metadata: { name: 'db', namespace: 'shop' },
    spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] },
  },
  {
    metadata: { name: 'ext', namespace: 'default' },
    spec: { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' },
  },
];

const bigSlice: EndpointSlice = {
  metadata: { name: 'db-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'db' } },
  addressType: 'IPv4',
  endpoints: [
    { addresses: ['127.244.1.7'], hostname: 'db-0', conditions: { ready: true } },
    { addresses: ['127.244.2.8'] },
    { addresses: ['127.244.2.9'], conditions: { ready: false } },
  ],
  ports: [{ name: 'pg', port: 15432, protocol: 'TCP' }],
};

const view: DnsView = {
  service: (ns, name) => services.find((s) => s.metadata?.namespace === ns && s.metadata.name === name),
  endpointSlices: (ns, name) => (ns === 'shop' && name === 'db' ? [bigSlice] : []),
  namespaceExists: (ns) => ['default', 'shop'].includes(ns),
  allServices: () => services,
};

const records = new ClusterRecords(view, { zone: 'cluster.local', ttl: 5, serial: 1 });
const ask = (name: string, type: number = RecordType.A) => records.answer({ name, type, class: CLASS_IN });
const data = (name: string, type: number = RecordType.A) => ask(name, type).answers.map((a) => a.data);

describe('cluster DNS records', () => {
  it('gives a ClusterIP Service its ClusterIP, authoritatively with TTL 5', () => {
    const a = ask('web.default.svc.cluster.local.');
    expect(a).toMatchObject({ rcode: RCode.NOERROR, authoritative: true });
    expect(a.answers).toEqual([
      {
        name: 'web.default.svc.cluster.local',
        type: RecordType.A,
        class: CLASS_IN,
        ttl: 5,
        data: { kind: 'A', address: '127.96.0.20' },
      },
    ]);
  });

  it('serves SRV for named ports only, protocol and name case-insensitive', () => {
    expect(data('_http._tcp.web.default.svc.cluster.local', RecordType.SRV)).toEqual([
      { kind: 'SRV', priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' },
    ]);
    expect(data('_dns._udp.web.default.svc.cluster.local', RecordType.SRV)).toHaveLength(1);
    expect(ask('_http._udp.web.default.svc.cluster.local', RecordType.SRV).rcode).toBe(RCode.NXDOMAIN);
    // SRV on the bare name lists every port
    expect(
      data('web.default.svc.cluster.local', RecordType.SRV).map((d) => (d.kind === 'SRV' ? d.port : 0)),
    ).toEqual([80, 53, 9000]);
  });

  it('answers a headless Service with ready endpoints, named by hostname or dashed IP', () => {
    expect(data('db.shop.svc.cluster.local')).toEqual([
      { kind: 'A', address: '127.244.1.7' },
      { kind: 'A', address: '127.244.2.8' },
    ]);
    expect(data('db-0.db.shop.svc.cluster.local')).toEqual([{ kind: 'A', address: '127.244.1.7' }]);
    expect(data('127-244-2-8.db.shop.svc.cluster.local')).toEqual([{ kind: 'A', address: '127.244.2.8' }]);
    expect(ask('127-244-2-9.db.shop.svc.cluster.local').rcode).toBe(RCode.NXDOMAIN);
    const srv = ask('_pg._tcp.db.shop.svc.cluster.local', RecordType.SRV);
    expect(srv.answers.map((a) => a.data)).toEqual([
      { kind: 'SRV', priority: 0, weight: 50, port: 15432, target: 'db-0.db.shop.svc.cluster.local' },
      { kind: 'SRV', priority: 0, weight: 50, port: 15432, target: '127-244-2-8.db.shop.svc.cluster.local' },
    ]);
    expect(srv.additional.map((a) => a.name)).toEqual([
      'db-0.db.shop.svc.cluster.local',
      '127-244-2-8.db.shop.svc.cluster.local',
    ]);
  });

  it('answers pod names in existing namespaces, and ExternalName with a CNAME', () => {
    expect(data('127-244-1-5.default.pod.cluster.local')).toEqual([{ kind: 'A', address: '127.244.1.5' }]);
    expect(ask('127-244-1-5.nope.pod.cluster.local').rcode).toBe(RCode.NXDOMAIN);
    expect(ask('127-244-1-500.default.pod.cluster.local').rcode).toBe(RCode.NXDOMAIN);
    expect(data('ext.default.svc.cluster.local')).toEqual([
      { kind: 'NAME', target: 'web.default.svc.cluster.local' },
    ]);
  });

  it('tells NXDOMAIN from NODATA, with the SOA in authority, and refuses the outside world', () => {
    const nx = ask('nope.default.svc.cluster.local');
    expect(nx.rcode).toBe(RCode.NXDOMAIN);
    expect(nx.authority[0]?.data).toMatchObject({ kind: 'SOA', mname: 'ns.dns.cluster.local', minimum: 5 });
    expect(ask('web.nope.svc.cluster.local').rcode).toBe(RCode.NXDOMAIN);
    expect(ask('something.cluster.local').rcode).toBe(RCode.NXDOMAIN);
    const nodata = ask('web.default.svc.cluster.local', RecordType.AAAA);
    expect(nodata).toMatchObject({ rcode: RCode.NOERROR, answers: [] });
    expect(nodata.authority).toHaveLength(1);
    expect(ask('default.svc.cluster.local').rcode).toBe(RCode.NOERROR);
    expect(ask('example.com')).toMatchObject({ rcode: RCode.REFUSED, authoritative: false });
    expect(ask('cluster.local.example.com').rcode).toBe(RCode.REFUSED);
    expect(data('dns-version.cluster.local', RecordType.TXT)).toEqual([{ kind: 'TXT', texts: ['1.1.0'] }]);
  });

  it('answers reverse lookups for ClusterIPs and headless endpoints', () => {
    expect(data('20.0.96.127.in-addr.arpa', RecordType.PTR)).toEqual([
      { kind: 'NAME', target: 'web.default.svc.cluster.local' },
    ]);
    expect(data('7.1.244.127.in-addr.arpa', RecordType.PTR)).toEqual([
      { kind: 'NAME', target: 'db-0.db.shop.svc.cluster.local' },
    ]);
    expect(ask('1.1.1.1.in-addr.arpa', RecordType.PTR).rcode).toBe(RCode.REFUSED);
  });
});

describe('respond', () => {
  it('echoes the id and question, copies RD, and answers FORMERR to garbage with a header', () => {
    const reply = decodeMessage(
      respond(records, encodeQuery(99, 'web.default.svc.cluster.local', RecordType.A), 'udp')!,
    );
    expect(reply).toMatchObject({ id: 99, qr: true, rd: true, aa: true, rcode: 0 });
    expect(reply.questions).toEqual([
      { name: 'web.default.svc.cluster.local', type: RecordType.A, class: CLASS_IN },
    ]);
    const garbage = Buffer.concat([encodeQuery(5, 'x', RecordType.A).subarray(0, 12), Buffer.from([40, 1])]);
    expect(decodeMessage(respond(records, garbage, 'udp')!)).toMatchObject({ id: 5, rcode: RCode.FORMERR });
    expect(respond(records, Buffer.from([1]), 'udp')).toBeUndefined();
  });

  it('truncates a UDP answer over 512 bytes (TC) unless EDNS allows more; TCP is never truncated', () => {
    const many: EndpointSlice = {
      ...bigSlice,
      endpoints: Array.from({ length: 60 }, (_, i) => ({ addresses: [`127.244.3.${i + 1}`] })),
    };
    const big = new ClusterRecords(
      { ...view, endpointSlices: () => [many] },
      { zone: 'cluster.local', ttl: 5, serial: 1 },
    );
    const query = encodeQuery(1, 'db.shop.svc.cluster.local', RecordType.A);
    const udp = decodeMessage(respond(big, query, 'udp')!);
    expect(udp.tc).toBe(true);
    expect(udp.answers).toHaveLength(0);
    expect(decodeMessage(respond(big, query, 'tcp')!).answers).toHaveLength(60);
    const edns = decodeMessage(
      respond(big, encodeQuery(1, 'db.shop.svc.cluster.local', RecordType.A, { ednsPayload: 4096 }), 'udp')!,
    );
    expect(edns.tc).toBe(false);
    expect(edns.answers).toHaveLength(60);
    expect(edns.additional.find((r) => r.type === RecordType.OPT)?.class).toBe(1232);
  });
});
