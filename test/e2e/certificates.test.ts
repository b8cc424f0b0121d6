// Issue #21 (the CertificateSigningRequest slice), from the user's side with the real kubectl 1.27 and 1.33: the
// docs' "Certificates and Certificate Signing Requests" walk-through for a normal user — an `openssl` key and request,
// the docs' CSR manifest (signer kube-apiserver-client, expirationSeconds 86400, client auth) applied, `kubectl
// certificate approve`, the certificate read from .status.certificate and put in a kubeconfig with `kubectl config
// set-credentials --embed-certs` — and that user is recognised (`auth whoami`, `auth can-i` once a RoleBinding
// grants something). Also `kubectl certificate deny`, upstream's 403s for a user who may not approve, the
// CertificateSubjectRestriction refusal of O=system:masters, and 422s with field paths for invalid requests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, upCluster, type Run, type TestCluster } from '../helpers/cluster.js';
import { ensureCommands } from '../helpers/tools.js';

const SDK = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.27', '1.33'];

let c: TestCluster;
let dir: string;

const must = (r: Run, what: string): string => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
};
const kubectl = (
  version: string,
  args: string[],
  opts: { kubeconfig?: string; input?: string } = {},
): Promise<Run> =>
  run(`${SDK}/kubectl.${version}`, ['--kubeconfig', opts.kubeconfig ?? c.kubeconfig, ...args], process.env, {
    timeoutMs: 30_000,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
const openssl = (args: string[]): string =>
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', encoding: 'utf8' });

/** `openssl genrsa` + `openssl req -new -subj ...`, as the docs do; the request base64'd without newlines */
function opensslRequest(file: string, subject: string): string {
  openssl(['genrsa', '-out', `${file}.key`, '2048']);
  openssl(['req', '-new', '-key', `${file}.key`, '-out', `${file}.csr`, '-subj', subject]);
  return readFileSync(join(dir, `${file}.csr`)).toString('base64');
}

/** the docs' CertificateSigningRequest manifest for a normal user */
const csrManifest = (
  name: string,
  request: string,
  extra: { expirationSeconds?: number; signerName?: string } = {},
) =>
  `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: ${name}
spec:
  request: ${request}
  signerName: ${extra.signerName ?? 'kubernetes.io/kube-apiserver-client'}
  expirationSeconds: ${extra.expirationSeconds ?? 86400}  # one day
  usages:
  - client auth
`;

/** a kubeconfig for `user` from a key and the certificate the cluster issued, made with kubectl config */
async function userKubeconfig(
  version: string,
  user: string,
  keyFile: string,
  certFile: string,
): Promise<string> {
  const kubeconfig = join(dir, `${user}-${version}.kubeconfig`);
  const server = must(
    await kubectl(version, ['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}']),
    'server',
  );
  const cfg = (args: string[]): Promise<Run> => kubectl(version, ['config', ...args], { kubeconfig });
  must(
    await cfg([
      'set-cluster',
      'kubemu',
      `--server=${server}`,
      `--certificate-authority=${join(c.stateDir, 'pki', 'ca.crt')}`,
      '--embed-certs',
    ]),
    'set-cluster',
  );
  must(
    await cfg([
      'set-credentials',
      user,
      `--client-key=${keyFile}`,
      `--client-certificate=${certFile}`,
      '--embed-certs=true',
    ]),
    'set-credentials',
  );
  must(await cfg(['set-context', user, '--cluster=kubemu', `--user=${user}`]), 'set-context');
  must(await cfg(['use-context', user]), 'use-context');
  return kubeconfig;
}

beforeAll(async () => {
  ensureCommands([['openssl', 'openssl']]);
  dir = mkdtempSync(join(tmpdir(), 'kubemu-csr-'));
  c = await upCluster({ nodes: 1 });
}, 180_000);

afterAll(async () => {
  await c?.down();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('CertificateSigningRequests with kubectl 1.27 and 1.33', () => {
  for (const v of VERSIONS) {
    it(`kubectl ${v}: the docs' normal-user CSR is approved, signed by the cluster CA, and its user is recognised`, async () => {
      const name = `jane-${v.replace('.', '')}`;
      const request = opensslRequest(name, '/CN=jane/O=dev');
      const applied = must(
        await kubectl(v, ['apply', '-f', '-'], { input: csrManifest(name, request) }),
        'apply',
      );
      expect(applied.trim()).toBe(`certificatesigningrequest.certificates.k8s.io/${name} created`);
      // pending until someone approves it: nothing signs an unapproved request
      const pending = must(await kubectl(v, ['get', 'csr', name]), 'get csr');
      expect(pending).toMatch(/NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION/);
      expect(pending).toMatch(
        new RegExp(
          `${name}\\s+\\S+\\s+kubernetes.io/kube-apiserver-client\\s+kubemu-admin\\s+24h\\s+Pending`,
        ),
      );

      const approved = must(await kubectl(v, ['certificate', 'approve', name]), 'approve');
      expect(approved.trim()).toBe(`certificatesigningrequest.certificates.k8s.io/${name} approved`);
      const pem = await c.waitFor(`${name}'s certificate`, async () => {
        const out = must(
          await kubectl(v, ['get', 'csr', name, '-o', 'jsonpath={.status.certificate}']),
          'get',
        );
        return out.trim() ? Buffer.from(out.trim(), 'base64').toString() : undefined;
      });
      expect(must(await kubectl(v, ['get', 'csr', name]), 'get csr')).toMatch(/Approved,Issued/);
      const csr = await c.getJson(['get', 'csr', name, '-o', 'json']);
      expect(csr.status.conditions[0]).toMatchObject({
        type: 'Approved',
        status: 'True',
        reason: 'KubectlApprove',
        message: 'This CSR was approved by kubectl certificate approve.',
      });
      const certFile = join(dir, `${name}.crt`);
      writeFileSync(certFile, pem);
      // the cluster CA signed it, for jane in dev, for one day (expirationSeconds), a client certificate only
      expect(openssl(['verify', '-CAfile', join(c.stateDir, 'pki', 'ca.crt'), certFile]).trim()).toBe(
        `${certFile}: OK`,
      );
      const text = openssl([
        'x509',
        '-in',
        certFile,
        '-noout',
        '-subject',
        '-dates',
        '-ext',
        'extendedKeyUsage,basicConstraints',
      ]);
      expect(text).toMatch(/subject=CN\s*=\s*jane,\s*O\s*=\s*dev/);
      expect(text).toMatch(/TLS Web Client Authentication/);
      expect(text).toMatch(/CA:FALSE/);
      const notBefore = Date.parse(/notBefore=(.*)/.exec(text)![1]);
      const notAfter = Date.parse(/notAfter=(.*)/.exec(text)![1]);
      expect(notAfter - notBefore).toBe(86_400_000);

      const kubeconfig = await userKubeconfig(v, 'jane', join(dir, `${name}.key`), certFile);
      if (v === '1.33') {
        const whoami = must(await kubectl(v, ['auth', 'whoami'], { kubeconfig }), 'whoami');
        expect(whoami).toMatch(/Username\s+jane/);
        expect(whoami).toMatch(/Groups\s+\[dev system:authenticated\]/);
      }
      const before = await kubectl(v, ['auth', 'can-i', 'list', 'pods', '-n', 'default'], { kubeconfig });
      expect(before.stdout.trim()).toBe('no');
      const forbidden = await kubectl(v, ['get', 'pods', '-n', 'default'], { kubeconfig });
      expect(forbidden.code).not.toBe(0);
      expect(forbidden.stderr).toContain(
        'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"',
      );
      const binding = `jane-view-${v.replace('.', '')}`;
      must(
        await kubectl(v, [
          'create',
          'rolebinding',
          binding,
          '--clusterrole=view',
          '--user=jane',
          '-n',
          'default',
        ]),
        'rolebinding',
      );
      await c.waitFor('jane may list pods', async () => {
        const r = await kubectl(v, ['auth', 'can-i', 'list', 'pods', '-n', 'default'], { kubeconfig });
        return r.stdout.trim() === 'yes';
      });
      must(await kubectl(v, ['get', 'pods', '-n', 'default'], { kubeconfig }), 'get pods as jane');
      must(await kubectl(v, ['delete', 'rolebinding', binding, '-n', 'default']), 'delete rolebinding');
    });

    it(`kubectl ${v}: certificate deny leaves the request Denied and unsigned`, async () => {
      const name = `bob-${v.replace('.', '')}`;
      must(
        await kubectl(v, ['apply', '-f', '-'], { input: csrManifest(name, opensslRequest(name, '/CN=bob')) }),
        'apply',
      );
      const denied = must(await kubectl(v, ['certificate', 'deny', name]), 'deny');
      expect(denied.trim()).toBe(`certificatesigningrequest.certificates.k8s.io/${name} denied`);
      const csr = await c.getJson(['get', 'csr', name, '-o', 'json']);
      expect(csr.status.conditions.map((x: { type: string }) => x.type)).toEqual(['Denied']);
      expect(csr.status.certificate).toBeUndefined();
      expect(must(await kubectl(v, ['get', 'csr', name]), 'get csr')).toMatch(
        new RegExp(`${name}\\s.*\\sDenied\\s*$`, 'm'),
      );
      // kubectl refuses to approve a denied request itself; the apiserver refuses it too, written to /approval
      const both = await kubectl(v, ['certificate', 'approve', name]);
      expect(both.code).not.toBe(0);
      expect(both.stderr).toContain(`certificate signing request "${name}" is already Denied`);
      csr.status.conditions.push({ type: 'Approved', status: 'True', reason: 'Sneaky' });
      const file = join(dir, `${name}-approval.json`);
      writeFileSync(file, JSON.stringify(csr));
      const raw = await kubectl(v, [
        'replace',
        '--raw',
        `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}/approval`,
        '-f',
        file,
      ]);
      expect(raw.code).not.toBe(0);
      expect(raw.stderr + raw.stdout).toContain('Approved and Denied conditions are mutually exclusive');
    });
  }

  it("a user who may not approve gets RBAC's 403, then CertificateApproval's for the signer", async () => {
    const v = '1.33';
    const request = opensslRequest('carol', '/CN=carol/O=qa');
    const key = join(dir, 'carol.key');
    // carol gets her own certificate approved by the admin, then tries to approve someone else's
    must(await kubectl(v, ['apply', '-f', '-'], { input: csrManifest('carol', request) }), 'apply');
    must(await kubectl(v, ['certificate', 'approve', 'carol']), 'approve');
    const pem = await c.waitFor("carol's certificate", async () => {
      const out = must(
        await kubectl(v, ['get', 'csr', 'carol', '-o', 'jsonpath={.status.certificate}']),
        'get',
      );
      return out.trim() ? Buffer.from(out.trim(), 'base64').toString() : undefined;
    });
    writeFileSync(join(dir, 'carol.crt'), pem);
    const kubeconfig = await userKubeconfig(v, 'carol', key, join(dir, 'carol.crt'));
    must(
      await kubectl(v, ['apply', '-f', '-'], {
        input: csrManifest('dave', opensslRequest('dave', '/CN=dave')),
      }),
      'apply',
    );

    const noRbac = await kubectl(v, ['certificate', 'approve', 'dave'], { kubeconfig });
    expect(noRbac.code).not.toBe(0);
    expect(noRbac.stderr).toContain(
      'certificatesigningrequests.certificates.k8s.io "dave" is forbidden: User "carol" cannot get resource "certificatesigningrequests" in API group "certificates.k8s.io" at the cluster scope',
    );
    // may read requests and write /approval, but not `approve` on the signer: the admission plugin refuses
    must(
      await kubectl(v, [
        'create',
        'clusterrole',
        'csr-approval-writer',
        '--verb=get,list,update',
        '--resource=certificatesigningrequests,certificatesigningrequests/approval',
      ]),
      'clusterrole',
    );
    must(
      await kubectl(v, [
        'create',
        'clusterrolebinding',
        'carol-approval',
        '--clusterrole=csr-approval-writer',
        '--user=carol',
      ]),
      'binding',
    );
    const noSigner = await c.waitFor('the signer check', async () => {
      const r = await kubectl(v, ['certificate', 'approve', 'dave'], { kubeconfig });
      return r.stderr.includes('signerName') ? r : undefined;
    });
    expect(noSigner.code).not.toBe(0);
    expect(noSigner.stderr).toContain(
      'Error from server (Forbidden): certificatesigningrequests.certificates.k8s.io "dave" is forbidden: user not permitted to approve requests with signerName "kubernetes.io/kube-apiserver-client"',
    );
    // `approve` on the signer (here its domain/*, as the docs' approver ClusterRole shows) lets her
    must(
      await kubectl(v, ['apply', '-f', '-'], {
        input: `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: csr-approver
rules:
- apiGroups:
  - certificates.k8s.io
  resources:
  - signers
  resourceNames:
  - kubernetes.io/* # example.com/* can be used to authorize for all signers in the 'example.com' domain
  verbs:
  - approve
`,
      }),
      'signer role',
    );
    must(
      await kubectl(v, [
        'create',
        'clusterrolebinding',
        'carol-signers',
        '--clusterrole=csr-approver',
        '--user=carol',
      ]),
      'binding',
    );
    await c.waitFor('carol approves dave', async () => {
      const r = await kubectl(v, ['certificate', 'approve', 'dave'], { kubeconfig });
      return r.code === 0;
    });
    await c.waitFor("dave's certificate", async () => {
      const out = must(
        await kubectl(v, ['get', 'csr', 'dave', '-o', 'jsonpath={.status.certificate}']),
        'get',
      );
      return out.trim() !== '';
    });
  });

  it('a request for O=system:masters from the kube-apiserver-client signer is refused', async () => {
    for (const v of VERSIONS) {
      const name = `mallory-${v.replace('.', '')}`;
      const r = await kubectl(v, ['apply', '-f', '-'], {
        input: csrManifest(name, opensslRequest(name, '/CN=mallory/O=system:masters')),
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        `certificatesigningrequests.certificates.k8s.io "${name}" is forbidden: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed`,
      );
      expect((await kubectl(v, ['get', 'csr', name])).code).not.toBe(0);
    }
  });

  it('invalid requests get a Status naming the field', async () => {
    for (const v of VERSIONS) {
      const request = opensslRequest('erin', '/CN=erin');
      const short = await kubectl(v, ['apply', '-f', '-'], {
        input: csrManifest('erin-short', request, { expirationSeconds: 60 }),
      });
      expect(short.code).not.toBe(0);
      expect(short.stderr).toContain(
        'The CertificateSigningRequest "erin-short" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)',
      );
      const signer = await kubectl(v, ['apply', '-f', '-'], {
        input: csrManifest('erin-signer', request, { signerName: 'erin' }),
      });
      expect(signer.code).not.toBe(0);
      expect(signer.stderr).toContain(
        `spec.signerName: Invalid value: "erin": must be a fully qualified domain and path of the form 'example.com/signer-name'`,
      );
      // a request that is not a PKCS#10 request, and one whose signature does not verify
      const notPem = await kubectl(v, ['apply', '-f', '-'], {
        input: csrManifest('erin-garbage', Buffer.from('hello').toString('base64')),
      });
      expect(notPem.code).not.toBe(0);
      expect(notPem.stderr).toContain('spec.request: Invalid value:');
      expect(notPem.stderr).toContain('PEM block type must be CERTIFICATE REQUEST');
      const der = Buffer.from(
        readFileSync(join(dir, 'erin.csr'), 'utf8')
          .replace(/-----[^-]+-----/g, '')
          .replace(/\s+/g, ''),
        'base64',
      );
      der[der.length - 5] ^= 0xff; // a flipped byte of the signature
      const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
      const badSig = await kubectl(v, ['apply', '-f', '-'], {
        input: csrManifest('erin-sig', Buffer.from(tampered).toString('base64')),
      });
      expect(badSig.code).not.toBe(0);
      expect(badSig.stderr).toContain('spec.request: Invalid value:');
      expect(badSig.stderr).toContain('crypto/rsa: verification error');
    }
  });
});
