// The apiserver's kubelet client (src/apiserver/kubelet-client.ts) against the kubelet's HTTPS server and against listeners
// posing as one: certificates both ways, never a token, errors worded as upstream's.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeletServer, type KubeletServer } from '../src/kubelet/server.js';
import { silentLogger } from '../src/util/logger.js';
import {
  createCertificateAuthority,
  issueCertificate,
  KUBELET_CLIENT_CN,
  type CertificateAndKey,
  type CertificateAuthority,
} from '../src/util/pki.js';
import { goDialCause, KubeletClient, KubeletDialError } from '../src/apiserver/kubelet-client.js';

let ca: CertificateAuthority;
let apiserverCert: CertificateAndKey;
let kubelet: KubeletServer;
const clients: KubeletClient[] = [];
const client = (creds: CertificateAndKey, caPem = ca.certPem): KubeletClient => {
  const c = new KubeletClient({ caPem, ...creds }, 5_000);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  ca = await createCertificateAuthority('cluster-ca');
  apiserverCert = await issueCertificate(ca, {
    commonName: KUBELET_CLIENT_CN,
    organization: ['system:masters'],
    usages: ['client'],
  });
  const serving = await issueCertificate(ca, { commonName: 'system:node:n1', hosts: ['127.0.0.1'] });
  kubelet = await startKubeletServer({
    host: '127.0.0.1',
    port: 0,
    tls: serving,
    clientCaPem: ca.certPem,
    findPod: () => undefined,
    summary: () => ({ node: { nodeName: 'n1' }, pods: [] }),
    log: silentLogger(),
  });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await kubelet?.close();
});

/** A TLS listener answering 200 to anything, recording the Authorization headers it gets. */
async function listener(
  cert: CertificateAndKey,
): Promise<{ port: number; auth: (string | undefined)[]; close(): void }> {
  const auth: (string | undefined)[] = [];
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    auth.push(req.headers.authorization);
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    auth,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe("the apiserver's kubelet client", () => {
  it("reaches a kubelet whose certificate the cluster CA signed for its address, with the apiserver's certificate", async () => {
    const r = await client(apiserverCert).getText(
      { host: '127.0.0.1', port: kubelet.port },
      '/stats/summary',
    );
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).node.nodeName).toBe('n1');
  });

  it('is refused by the kubelet with another CA, another identity, or no certificate', async () => {
    const at = { host: '127.0.0.1', port: kubelet.port };
    // same name, another CA: x509 authentication fails
    const other = await createCertificateAuthority('other');
    const forged = await issueCertificate(other, {
      commonName: KUBELET_CLIENT_CN,
      organization: ['system:masters'],
      usages: ['client'],
    });
    expect((await client(forged).getText(at, '/stats/summary')).status).toBe(401);
    // the cluster CA's, but a node's identity: authenticated, not authorized
    const node = await issueCertificate(ca, {
      commonName: 'system:node:n2',
      organization: ['system:nodes'],
      usages: ['client'],
    });
    const denied = await client(node).getText(at, '/stats/summary');
    expect(denied.status).toBe(403);
    expect(denied.body).toBe('Forbidden (user=system:node:n2, verb=get, resource=nodes, subresource=stats)');
    // /healthz needs no credential
    expect((await client(forged).getText(at, '/healthz')).body).toBe('ok');
  });

  it('sends nothing to a listener whose certificate the cluster CA did not sign, and says why as Go does', async () => {
    const self = await createCertificateAuthority('127.0.0.1');
    const fake = await listener(
      await issueCertificate(self, { commonName: '127.0.0.1', hosts: ['127.0.0.1'] }),
    );
    try {
      const err = await client(apiserverCert)
        .get({ host: '127.0.0.1', port: fake.port }, '/containerLogs/default/p/c')
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(KubeletDialError);
      expect((err as Error).message).toBe(
        `Get "https://127.0.0.1:${fake.port}/containerLogs/default/p/c": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
      );
      // upstream sends an error that is not a Status as code 500 with no reason
      const status = (err as KubeletDialError).toStatus();
      expect(status.code).toBe(500);
      expect(status.reason).toBeUndefined();
      expect(fake.auth).toEqual([]);
    } finally {
      fake.close();
    }
  });

  it("refuses a cluster-CA certificate made for another address, naming the certificate's addresses", async () => {
    const fake = await listener(await issueCertificate(ca, { commonName: 'x', hosts: ['127.0.0.2'] }));
    try {
      await expect(
        client(apiserverCert).get({ host: '127.0.0.1', port: fake.port }, '/stats/summary'),
      ).rejects.toThrow(
        'tls: failed to verify certificate: x509: certificate is valid for 127.0.0.2, not 127.0.0.1',
      );
      expect(fake.auth).toEqual([]);
    } finally {
      fake.close();
    }
  });

  it("words dial failures as Go's net package", () => {
    const at = { host: '127.0.1.3', port: 10250 };
    const e = (code: string) => Object.assign(new Error(code), { code });
    expect(goDialCause(e('ECONNREFUSED'), at)).toBe('dial tcp 127.0.1.3:10250: connect: connection refused');
    expect(goDialCause(e('DEPTH_ZERO_SELF_SIGNED_CERT'), at)).toBe(
      'tls: failed to verify certificate: x509: certificate signed by unknown authority',
    );
    expect(goDialCause(e('CERT_HAS_EXPIRED'), at)).toBe(
      'tls: failed to verify certificate: x509: certificate has expired or is not yet valid',
    );
    expect(
      goDialCause(
        Object.assign(e('ERR_TLS_CERT_ALTNAME_INVALID'), { cert: { subjectaltname: 'DNS:foo' } }),
        at,
      ),
    ).toBe(
      "tls: failed to verify certificate: x509: cannot validate certificate for 127.0.1.3 because it doesn't contain any IP SANs",
    );
  });
});
