import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UserInfo } from '../../api/request.js';
import { fakeCluster, type FakeCluster } from '../../testing/fake-cluster.js';
import { FakeClock } from '../../util/clock.js';
import { createCertificateAuthority, type CertificateAuthority } from '../../util/pki.js';
import { CSRApprovingController, type SubjectAccessReviewer } from './approver.js';
import { boundaries, keyUsagesFromStrings } from './authority.js';
import { CSRCleanerController, POLLING_INTERVAL_MS, cleanupReason } from './cleaner.js';
import { csrClient } from './csr-util.js';
import { CSRSigningController, signingDuration } from './signer.js';
import { requestField } from '../../testing/certificate-requests.js';

let ca: CertificateAuthority;
let dir: string;
const stops: (() => void)[] = [];

beforeAll(async () => {
  ca = await createCertificateAuthority('test-ca');
  dir = mkdtempSync(join(tmpdir(), 'kubemu-csr-unit-'));
  writeFileSync(join(dir, 'ca.crt'), ca.certPem);
  writeFileSync(join(dir, 'ca.key'), ca.keyPem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

/** polls in real time (signing runs WebCrypto on the thread pool) */
async function eventually<T>(what: string, check: () => T | undefined, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ADMIN: UserInfo = { username: 'admin', groups: ['system:masters', 'system:authenticated'] };

/** a CSR created by `user`, as `kubectl apply` of the docs' manifest would */
async function createCsr(
  c: FakeCluster,
  name: string,
  spec: Partial<CertificateSigningRequest['spec']> & { request: string },
  user: UserInfo = ADMIN,
): Promise<void> {
  await c.handler.handle({
    verb: 'create',
    group: 'certificates.k8s.io',
    version: 'v1',
    resource: 'certificatesigningrequests',
    options: {},
    user,
    body: {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name },
      spec: { signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], ...spec },
    },
  });
}

/** what `kubectl certificate approve` / `deny` writes to /approval */
async function decide(c: FakeCluster, name: string, type: 'Approved' | 'Denied'): Promise<void> {
  const csr = await csrClient(c.client).get(name);
  csr.status = {
    ...csr.status,
    conditions: [...(csr.status?.conditions ?? []), { type, status: 'True', reason: 'KubectlApprove' }],
  };
  await c.client.transport.request({
    verb: 'update',
    group: 'certificates.k8s.io',
    version: 'v1',
    resource: 'certificatesigningrequests',
    name,
    subresource: 'approval',
    body: csr,
    options: {},
  });
}

const stored = (c: FakeCluster, name: string): CertificateSigningRequest | undefined =>
  c.objects<CertificateSigningRequest>('certificatesigningrequests').find((x) => x.metadata?.name === name);

async function startSigner(c: FakeCluster, durationMs?: number): Promise<void> {
  const ctl = new CSRSigningController({
    client: c.client,
    informers: c.informers,
    clock: c.clock,
    certFile: join(dir, 'ca.crt'),
    keyFile: join(dir, 'ca.key'),
    ...(durationMs ? { durationMs } : {}),
  });
  stops.push(() => {
    ctl.stop();
    c.informers.stop();
  });
  await ctl.run();
}

describe('csrsigning (upstream signer.go)', () => {
  it('signs an approved kube-apiserver-client request with the CA: its subject, client auth, expirationSeconds', async () => {
    const c = await fakeCluster({ clock: new FakeClock(Date.now()) });
    await startSigner(c);
    await createCsr(c, 'jane', {
      request: await requestField({ cn: 'jane', o: ['dev'] }),
      expirationSeconds: 86400,
    });
    // nothing is signed before approval
    await new Promise((r) => setTimeout(r, 200));
    expect(stored(c, 'jane')?.status?.certificate).toBeUndefined();
    await decide(c, 'jane', 'Approved');
    const pem = await eventually('the certificate', () => stored(c, 'jane')?.status?.certificate);
    const cert = new X509Certificate(Buffer.from(pem, 'base64'));
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.subject).toBe('CN=jane\nO=dev');
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    // a day, backdated five minutes
    expect(Date.parse(cert.validTo) - Date.parse(cert.validFrom)).toBe(86_400_000);
    expect(Date.parse(cert.validFrom)).toBeLessThanOrEqual(c.clock.now() - 5 * 60_000 + 1000);
  });

  it("marks a request that breaks its signer's rules Failed (SignerValidationFailure), and does not sign it", async () => {
    const c = await fakeCluster({ clock: new FakeClock(Date.now()) });
    await startSigner(c);
    await createCsr(c, 'server', {
      request: await requestField({ cn: 'web' }),
      usages: ['client auth', 'server auth'],
    });
    await createCsr(c, 'kubelet', {
      request: await requestField({ cn: 'system:node:n1', o: ['system:nodes'], dns: ['n1'] }),
      signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
      usages: ['digital signature', 'client auth'],
    });
    await decide(c, 'server', 'Approved');
    await decide(c, 'kubelet', 'Approved');
    for (const [name, message] of [
      ['server', 'invalid usage for client certificate: server auth'],
      ['kubelet', 'DNS subjectAltNames are not allowed'],
    ]) {
      const failed = await eventually(`${name} Failed`, () =>
        stored(c, name)?.status?.conditions?.find((x) => x.type === 'Failed'),
      );
      expect(failed).toMatchObject({ status: 'True', reason: 'SignerValidationFailure', message });
      expect(stored(c, name)?.status?.certificate).toBeUndefined();
    }
  });

  it('signs kubelet-serving and kube-apiserver-client-kubelet requests that fit them; unknown signers are left alone', async () => {
    const c = await fakeCluster({ clock: new FakeClock(Date.now()) });
    await startSigner(c);
    await createCsr(c, 'serving', {
      request: await requestField({
        cn: 'system:node:n1',
        o: ['system:nodes'],
        ip: ['127.0.1.1'],
        dns: ['n1'],
      }),
      signerName: 'kubernetes.io/kubelet-serving',
      usages: ['digital signature', 'server auth'],
    });
    await createCsr(c, 'client', {
      request: await requestField({ cn: 'system:node:n1', o: ['system:nodes'] }),
      signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
      usages: ['digital signature', 'key encipherment', 'client auth'],
    });
    await createCsr(c, 'other', { request: await requestField({ cn: 'x' }), signerName: 'example.com/mine' });
    for (const n of ['serving', 'client', 'other']) await decide(c, n, 'Approved');
    const serving = await eventually('serving', () => stored(c, 'serving')?.status?.certificate);
    const cert = new X509Certificate(Buffer.from(serving, 'base64'));
    expect(cert.subjectAltName).toBe('DNS:n1, IP Address:127.0.1.1');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    await eventually('client', () => stored(c, 'client')?.status?.certificate);
    await new Promise((r) => setTimeout(r, 200));
    expect(stored(c, 'other')?.status?.certificate).toBeUndefined();
    expect(stored(c, 'other')?.status?.conditions?.map((x) => x.type)).toEqual(['Approved']);
  });

  it('the duration: expirationSeconds when shorter than --cluster-signing-duration, at least 10 minutes', () => {
    const year = 365 * 24 * 3_600_000;
    expect(signingDuration(year, undefined)).toBe(year);
    expect(signingDuration(year, 86400)).toBe(86_400_000);
    expect(signingDuration(year, 10 * year)).toBe(year);
    expect(signingDuration(year, 60)).toBe(600_000);
    const policy = { usages: [], backdateMs: 300_000, shortMs: 8 * 3_600_000, now: 1_000_000_000_000 };
    // short certificates are not backdated; NotAfter never past the CA's
    expect(boundaries({ ...policy, ttlMs: 3_600_000 }, Infinity).notBefore.getTime()).toBe(policy.now);
    expect(boundaries({ ...policy, ttlMs: year }, Infinity).notBefore.getTime()).toBe(policy.now - 300_000);
    expect(boundaries({ ...policy, ttlMs: year }, policy.now + 60_000).notAfter.getTime()).toBe(
      policy.now + 60_000,
    );
    expect(() => boundaries({ ...policy, ttlMs: year }, policy.now - 1)).toThrow('refusing to sign');
  });

  it('usages map to key usage bits and sorted extended key usages; unknown ones are refused', () => {
    expect(
      keyUsagesFromStrings(['client auth', 'digital signature', 'server auth', 'key encipherment']),
    ).toEqual({
      keyUsage: 5,
      extKeyUsages: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'],
    });
    expect(() => keyUsagesFromStrings(['flying'])).toThrow('unrecognized usage values: ["flying"]');
  });
});

describe('csrapproving (upstream sarapprove.go)', () => {
  async function startApprover(c: FakeCluster, allowed: (sub: string, user?: string) => boolean) {
    const asked: { subresource: string; user?: string; groups?: string[] }[] = [];
    const reviewer: SubjectAccessReviewer = (spec) => {
      asked.push({ subresource: spec.resourceAttributes.subresource, user: spec.user, groups: spec.groups });
      return Promise.resolve(allowed(spec.resourceAttributes.subresource, spec.user));
    };
    const ctl = new CSRApprovingController({
      client: c.client,
      informers: c.informers,
      clock: c.clock,
      reviewer,
    });
    stops.push(() => {
      ctl.stop();
      c.informers.stop();
    });
    await ctl.run();
    return asked;
  }
  const node: UserInfo = { username: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
  const bootstrap: UserInfo = { username: 'system:bootstrap:abc', groups: ['system:bootstrappers'] };
  const kubeletClient = (cn: string) => ({
    request: '',
    signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
    usages: ['digital signature', 'client auth'],
    cn,
  });

  it("approves a node's request for its own client certificate after a selfnodeclient review", async () => {
    const c = await fakeCluster();
    const asked = await startApprover(c, (sub) => sub === 'selfnodeclient');
    const { cn, ...spec } = kubeletClient('system:node:n1');
    await createCsr(
      c,
      'node-csr',
      { ...spec, request: await requestField({ cn, o: ['system:nodes'] }) },
      node,
    );
    const approved = await eventually('approval', () =>
      stored(c, 'node-csr')?.status?.conditions?.find((x) => x.type === 'Approved'),
    );
    expect(approved).toMatchObject({
      status: 'True',
      reason: 'AutoApproved',
      message: 'Auto approving self kubelet client certificate after SubjectAccessReview.',
    });
    expect(asked[0]).toMatchObject({ subresource: 'selfnodeclient', user: 'system:node:n1' });
    expect(asked[0].groups).toContain('system:nodes');
  });

  it("approves a bootstrap token's request for a node after a nodeclient review; leaves what it may not approve", async () => {
    const c = await fakeCluster();
    const asked = await startApprover(
      c,
      (sub, user) => sub === 'nodeclient' && user === 'system:bootstrap:abc',
    );
    const { cn, ...spec } = kubeletClient('system:node:n2');
    await createCsr(
      c,
      'boot',
      { ...spec, request: await requestField({ cn, o: ['system:nodes'] }) },
      bootstrap,
    );
    const approved = await eventually('approval', () =>
      stored(c, 'boot')?.status?.conditions?.find((x) => x.type === 'Approved'),
    );
    expect(approved?.message).toBe('Auto approving kubelet client certificate after SubjectAccessReview.');
    expect(asked.map((a) => a.subresource)).toEqual(['nodeclient']);
    // a node asking for another node's certificate: both reviews say no, it stays pending
    await createCsr(
      c,
      'other-node',
      { ...spec, request: await requestField({ cn: 'system:node:n3', o: ['system:nodes'] }) },
      node,
    );
    await eventually('the reviews', () => (asked.length >= 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    expect(stored(c, 'other-node')?.status?.conditions).toBeUndefined();
    // not a kubelet client request at all: no review is asked
    const n = asked.length;
    await createCsr(c, 'user', { request: await requestField({ cn: 'jane' }) }, node);
    await new Promise((r) => setTimeout(r, 200));
    expect(asked.length).toBe(n);
  });
});

describe('csrcleaner (upstream cleaner.go)', () => {
  it('deletes denied and issued requests after an hour, pending ones after a day, and keeps the rest', async () => {
    // on a whole second: conditions keep RFC 3339 seconds, so a clock at 12:00:00.700 would date the denial 0.7 s
    // earlier than the clock knows, and it would be more than an hour old one hour later
    const c = await fakeCluster({ clock: new FakeClock(Math.floor(Date.now() / 1000) * 1000) });
    const request = await requestField({ cn: 'jane' });
    for (const n of ['pending', 'denied', 'approved']) await createCsr(c, n, { request });
    await decide(c, 'denied', 'Denied');
    await decide(c, 'approved', 'Approved');
    const ctl = new CSRCleanerController({ client: c.client, informers: c.informers, clock: c.clock });
    stops.push(() => {
      ctl.stop();
      c.informers.stop();
    });
    await ctl.run();
    const names = (): string[] =>
      c.objects<CertificateSigningRequest>('certificatesigningrequests').map((x) => x.metadata!.name!);
    await new Promise((r) => setTimeout(r, 100));
    expect(names().sort()).toEqual(['approved', 'denied', 'pending']);
    // the sweeps run hourly from the start: an hour later the denial is not yet an hour old, two hours later it is
    const hour = async (): Promise<void> => {
      c.clock.advance(POLLING_INTERVAL_MS);
      await new Promise((r) => setTimeout(r, 50));
    };
    await hour();
    expect(names().sort()).toEqual(['approved', 'denied', 'pending']);
    await hour();
    // denied more than an hour ago goes; approved but never issued stays
    await eventually('denied deleted', () => (names().includes('denied') ? undefined : true));
    expect(names().sort()).toEqual(['approved', 'pending']);
    for (let i = 0; i < 23; i++) await hour();
    await eventually('pending deleted', () => (names().includes('pending') ? undefined : true));
    expect(names()).toEqual(['approved']);
  });

  it('an issued certificate that expired is cleaned at once', () => {
    const now = Date.now();
    const expired = new X509Certificate(ca.certPem); // any certificate; judged against a time after its end
    const csr = {
      metadata: { name: 'x', creationTimestamp: new Date(now).toISOString() },
      spec: { request: '', signerName: 'a.b/c', usages: [] },
      status: {
        certificate: Buffer.from(ca.certPem).toString('base64'),
        conditions: [{ type: 'Approved', status: 'True', lastUpdateTime: new Date(now).toISOString() }],
      },
    } as CertificateSigningRequest;
    expect(cleanupReason(csr, now)).toBeUndefined();
    expect(cleanupReason(csr, Date.parse(expired.validTo) + 1000)).toBe(
      'it is more than 1h0m0s old and approved',
    );
    expect(
      cleanupReason(
        { ...csr, status: { ...csr.status, conditions: [{ type: 'Approved', status: 'True' }] } },
        Date.parse(expired.validTo) + 1000,
      ),
    ).toBe('the associated certificate is expired');
  });
});
