import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import {
  createCertificateAuthority,
  ensureClusterPki,
  ensureKubeletServingCertificate,
  issueCertificate,
  KUBELET_PKI_FILES,
  PKI_FILES,
} from './pki.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubemu-pki-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('ensureClusterPki', () => {
  it('creates a CA and a serving cert whose chain verifies and whose SANs are upstream’s', async () => {
    const pki = await ensureClusterPki(dir, { hosts: ['10.1.2.3', 'my.host.example'] });

    const ca = new X509Certificate(pki.caCertPem);
    const cert = new X509Certificate(pki.servingCertPem);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(pki.servingKeyPem))).toBe(true);
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');

    const sans = cert.subjectAltName!.split(', ');
    for (const dns of [
      'localhost',
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
      'my.host.example',
    ]) {
      expect(sans).toContain(`DNS:${dns}`);
    }
    for (const ip of ['127.0.0.1', '127.96.0.1', '10.1.2.3']) expect(sans).toContain(`IP Address:${ip}`);
    expect(cert.checkHost('kubernetes.default.svc')).toBe('kubernetes.default.svc');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');

    // CA ~10 years, serving ~1 year
    const years = (c: X509Certificate) =>
      (Date.parse(c.validTo) - Date.parse(c.validFrom)) / (365 * 86400_000);
    expect(years(ca)).toBeGreaterThan(9.9);
    expect(years(cert)).toBeGreaterThan(0.99);
    expect(years(cert)).toBeLessThan(1.1);

    expect(statSync(pki.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, PKI_FILES.caKey)).mode & 0o777).toBe(0o600);
    expect(readFileSync(pki.caFile, 'utf8')).toBe(pki.caCertPem);
    expect(readFileSync(pki.certFile, 'utf8')).toBe(pki.servingCertPem);
  });

  it('reuses CA and serving cert across calls, and reissues only the serving cert when SANs change', async () => {
    const first = await ensureClusterPki(dir, { hosts: ['a.example'] });
    const started = performance.now();
    const second = await ensureClusterPki(dir, { hosts: ['a.example'] });
    expect(performance.now() - started).toBeLessThan(200);
    expect(second.caCertPem).toBe(first.caCertPem);
    expect(second.servingCertPem).toBe(first.servingCertPem);
    expect(second.servingKeyPem).toBe(first.servingKeyPem);

    const third = await ensureClusterPki(dir, { hosts: ['b.example'] });
    expect(third.caCertPem).toBe(first.caCertPem);
    expect(third.servingCertPem).not.toBe(first.servingCertPem);
    const cert = new X509Certificate(third.servingCertPem);
    expect(cert.subjectAltName).toContain('DNS:b.example');
    expect(cert.subjectAltName).not.toContain('DNS:a.example');
    expect(cert.verify(new X509Certificate(third.caCertPem).publicKey)).toBe(true);
  });

  it('keeps a serving cert whose IPv6 SANs are spelt differently, and reissues it when one address changes', async () => {
    const first = await ensureClusterPki(dir, { hosts: ['2001:db8::1', '::1'] });
    const second = await ensureClusterPki(dir, { hosts: ['2001:0DB8:0:0:0:0:0:1', '0:0:0:0:0:0:0:1'] });
    expect(second.servingCertPem).toBe(first.servingCertPem);
    const third = await ensureClusterPki(dir, { hosts: ['2001:db8::2', '::1'] });
    expect(third.servingCertPem).not.toBe(first.servingCertPem);
    expect(new X509Certificate(third.servingCertPem).subjectAltName).toContain(
      'IP Address:2001:DB8:0:0:0:0:0:2',
    );
  });

  it('makes a new CA (and serving cert) when the stored CA key is unusable', async () => {
    const first = await ensureClusterPki(dir, { hosts: [] });
    rmSync(join(dir, PKI_FILES.caKey));
    const second = await ensureClusterPki(dir, { hosts: [] });
    expect(second.caCertPem).not.toBe(first.caCertPem);
    expect(
      new X509Certificate(second.servingCertPem).verify(new X509Certificate(second.caCertPem).publicKey),
    ).toBe(true);
  });

  it('serves TLS that a client trusting only the CA accepts, and one trusting another CA rejects', async () => {
    const pki = await ensureClusterPki(dir, { hosts: [] });
    const server = createServer({ cert: pki.servingCertPem, key: pki.servingKeyPem }, (socket) => {
      socket.end('hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const dial = (ca: string, servername: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket: TLSSocket = connect({ host: '127.0.0.1', port, ca, servername }, () => {
          let data = '';
          socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
          socket.on('end', () => resolve(data));
        });
        socket.on('error', reject);
      });
    try {
      await expect(dial(pki.caCertPem, 'kubernetes.default.svc')).resolves.toBe('hello');
      await expect(dial(pki.caCertPem, 'localhost')).resolves.toBe('hello');
      const otherCa = await createCertificateAuthority('other');
      await expect(dial(otherCa.certPem, 'localhost')).rejects.toThrow(/certificate/i);
      await expect(dial(pki.caCertPem, 'not-in-sans.example')).rejects.toThrow(/altnames|Hostname/i);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('ensureClusterPki withCa', () => {
  it('issues more certificates of the same CA beside the leaves and the ServiceAccount key', async () => {
    const pki = await ensureClusterPki(dir, {
      hosts: [],
      withCa: (ca) =>
        ensureKubeletServingCertificate(ca, join(dir, 'node-1'), { name: 'node-1', ip: '127.0.1.1' }),
    });
    const kubelet = new X509Certificate(readFileSync(join(dir, 'node-1', KUBELET_PKI_FILES.cert)));
    expect(kubelet.verify(new X509Certificate(pki.caCertPem).publicKey)).toBe(true);
    expect(createPrivateKey(readFileSync(join(dir, PKI_FILES.serviceAccountKey))).asymmetricKeyType).toBe(
      'rsa',
    );
  });

  it("fails with withCa's error once everything it started has settled", async () => {
    await expect(
      ensureClusterPki(dir, { hosts: [], withCa: () => Promise.reject(new Error('no room')) }),
    ).rejects.toThrow('no room');
    // the ServiceAccount key made beside it was finished and written, not left half-done
    expect(createPrivateKey(readFileSync(join(dir, PKI_FILES.serviceAccountKey))).asymmetricKeyType).toBe(
      'rsa',
    );
  });
});

describe('kubelet certificates', () => {
  it("keeps the apiserver's kubelet client certificate: CN kube-apiserver-kubelet-client, O system:masters, clientAuth", async () => {
    const pki = await ensureClusterPki(dir, { hosts: [] });
    const cert = new X509Certificate(pki.kubeletClientCertPem);
    expect(cert.subject.split('\n')).toEqual(['O=system:masters', 'CN=kube-apiserver-kubelet-client']);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.verify(new X509Certificate(pki.caCertPem).publicKey)).toBe(true);
    expect(statSync(join(dir, PKI_FILES.kubeletClientKey)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, PKI_FILES.kubeletClientCert), 'utf8')).toBe(pki.kubeletClientCertPem);
    const again = await ensureClusterPki(dir, { hosts: [] });
    expect(again.kubeletClientCertPem).toBe(pki.kubeletClientCertPem);
  });

  it("signs a kubelet's serving certificate for the node's IP and name, kept until the node's address changes", async () => {
    const pki = await ensureClusterPki(join(dir, 'pki'), { hosts: [] });
    const certDir = join(dir, 'nodes', 'node-1', 'pki');
    const first = await ensureKubeletServingCertificate(pki.ca, certDir, { name: 'node-1', ip: '127.0.1.1' });
    const cert = new X509Certificate(first.certPem);
    expect(cert.subject.split('\n')).toEqual(['O=system:nodes', 'CN=system:node:node-1']);
    expect(cert.checkIP('127.0.1.1')).toBe('127.0.1.1');
    expect(cert.checkHost('node-1')).toBe('node-1');
    expect(cert.checkIP('127.0.1.2')).toBeUndefined();
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.verify(new X509Certificate(pki.caCertPem).publicKey)).toBe(true);
    expect(statSync(join(certDir, KUBELET_PKI_FILES.key)).mode & 0o777).toBe(0o600);
    expect(statSync(certDir).mode & 0o777).toBe(0o700);
    const kept = await ensureKubeletServingCertificate(pki.ca, certDir, { name: 'node-1', ip: '127.0.1.1' });
    expect(kept.certPem).toBe(first.certPem);
    const moved = await ensureKubeletServingCertificate(pki.ca, certDir, { name: 'node-1', ip: '127.0.1.9' });
    expect(new X509Certificate(moved.certPem).checkIP('127.0.1.9')).toBe('127.0.1.9');
    expect(readFileSync(join(certDir, KUBELET_PKI_FILES.cert), 'utf8')).toBe(moved.certPem);
  });
});

describe('issueCertificate', () => {
  it('signs a certificate for two hosts with a test CA', async () => {
    const ca = await createCertificateAuthority('test-ca');
    const leaf = await issueCertificate(ca, {
      commonName: 'shop',
      hosts: ['shop.example', 'www.shop.example'],
    });
    const cert = new X509Certificate(leaf.certPem);
    const caCert = new X509Certificate(ca.certPem);
    expect(cert.subject).toBe('CN=shop');
    expect(cert.issuer).toBe('CN=test-ca');
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkHost('shop.example')).toBe('shop.example');
    expect(cert.checkHost('www.shop.example')).toBe('www.shop.example');
    expect(cert.checkHost('other.example')).toBeUndefined();
    expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
  });

  it('issues client certificates with organizations as subject O', async () => {
    const ca = await createCertificateAuthority();
    const leaf = await issueCertificate(ca, {
      commonName: 'alice',
      organization: ['system:masters'],
      usages: ['client'],
    });
    const cert = new X509Certificate(leaf.certPem);
    expect(cert.subject.split('\n')).toEqual(['O=system:masters', 'CN=alice']);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.subjectAltName).toBeUndefined();
  });
});
