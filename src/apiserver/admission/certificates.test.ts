// The certificate admission plugins and CSR validation through the real registry, with an authorizer that grants
// what each case names (as RBAC would for `approve`/`sign` on signers).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.js';
import type { KubeObject, UserInfo } from '../../api/request.js';
import { JANE_CSR_PEM, makeRequestPem } from '../../testing/certificate-requests.js';
import type { Authorizer, ResourceAttributes } from '../auth/authorizer.js';
import { createCertificateAuthority } from '../../util/pki.js';
import { Registry } from '../registry/registry.js';
import { SqliteStorage } from '../storage/sqlite-storage.js';

let storage: SqliteStorage;
let registry: Registry;
/** `user verb name` strings the authorizer allows on certificates.k8s.io signers */
let grants: Set<string>;
const asked: ResourceAttributes[] = [];

const authorizer: Authorizer = {
  authorize(user, attrs) {
    const r = attrs.resource;
    if (r?.resource !== 'signers') return { allowed: true };
    asked.push(r);
    return { allowed: grants.has(`${user.username} ${r.verb} ${r.name}`) };
  },
  rulesFor: () => ({ resourceRules: [], nonResourceRules: [], incomplete: false }),
};

beforeEach(async () => {
  grants = new Set();
  asked.length = 0;
  storage = SqliteStorage.open({ path: ':memory:', freezeObjects: true });
  registry = new Registry({ storage, authorizer: () => authorizer });
  await registry.init();
});
afterEach(() => storage.close());

const alice: UserInfo = { username: 'alice', groups: ['system:authenticated'] };
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function csrApi(verb: 'create' | 'update' | 'get', body?: KubeObject, subresource?: string, user = alice) {
  return registry
    .handle({
      verb,
      group: 'certificates.k8s.io',
      version: 'v1',
      resource: 'certificatesigningrequests',
      options: {},
      user,
      ...(body && verb !== 'create' ? { name: body.metadata!.name! } : {}),
      ...(body ? { body: structuredClone(body) } : {}),
      ...(subresource ? { subresource } : {}),
    })
    .then((r) => r.body as KubeObject);
}

const csr = (name: string, request = JANE_CSR_PEM, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'certificates.k8s.io/v1',
  kind: 'CertificateSigningRequest',
  metadata: { name },
  spec: {
    request: b64(request),
    signerName: 'kubernetes.io/kube-apiserver-client',
    usages: ['client auth'],
    ...spec,
  },
});

async function error(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof ApiError)) throw e;
  return e;
}

const withConditions = (o: KubeObject, conditions: Record<string, string>[]): KubeObject => ({
  ...structuredClone(o),
  status: { ...(o['status'] as object), conditions },
});

describe('CertificateApproval', () => {
  it("refuses /approval without `approve` on the signer, allows it for the signer's name or its domain/*", async () => {
    const created = await csrApi('create', csr('jane'));
    const approve = withConditions(created, [{ type: 'Approved', status: 'True', reason: 'R' }]);
    const e = await error(csrApi('update', approve, 'approval'));
    expect(e.reason).toBe('Forbidden');
    expect(e.message).toBe(
      'certificatesigningrequests.certificates.k8s.io "jane" is forbidden: user not permitted to approve requests with signerName "kubernetes.io/kube-apiserver-client"',
    );
    expect(asked.map((a) => [a.verb, a.name, a.group, a.version])).toEqual([
      ['approve', 'kubernetes.io/kube-apiserver-client', 'certificates.k8s.io', '*'],
      ['approve', 'kubernetes.io/*', 'certificates.k8s.io', '*'],
    ]);
    grants.add('alice approve kubernetes.io/*');
    const done = await csrApi('update', approve, 'approval');
    expect((done['status'] as { conditions: { type: string }[] }).conditions[0].type).toBe('Approved');
  });
});

describe('CertificateSigning', () => {
  it('refuses a /status write of the certificate without `sign`; allows it with sign', async () => {
    grants.add('alice approve kubernetes.io/kube-apiserver-client');
    const created = await csrApi('create', csr('jane'));
    const approved = await csrApi(
      'update',
      withConditions(created, [{ type: 'Approved', status: 'True' }]),
      'approval',
    );
    const certificate = (pem: string): KubeObject => ({
      ...structuredClone(approved),
      status: { ...(approved['status'] as object), certificate: b64(pem) },
    });
    const first = (await createCertificateAuthority('one')).certPem;
    const e = await error(csrApi('update', certificate(first), 'status'));
    expect(e.reason).toBe('Forbidden');
    expect(e.message).toContain(
      'user not permitted to sign requests with signerName "kubernetes.io/kube-apiserver-client"',
    );
    grants.add('alice sign kubernetes.io/kube-apiserver-client');
    const signed = await csrApi('update', certificate(first), 'status');
    expect((signed['status'] as { certificate: string }).certificate).toBe(b64(first));
    const again = await error(
      csrApi(
        'update',
        { ...signed, status: { ...(signed['status'] as object), certificate: b64('x') } },
        'status',
      ),
    );
    expect(again.message).toContain(
      'status.certificate: Forbidden: updates may not modify existing certificate content',
    );
  });
});

describe('CertificateSubjectRestriction', () => {
  it('refuses O=system:masters for kube-apiserver-client only', async () => {
    const masters = await makeRequestPem({ cn: 'mallory', o: ['system:masters'] });
    const e = await error(csrApi('create', csr('mallory', masters)));
    expect(e.reason).toBe('Forbidden');
    expect(e.message).toBe(
      'certificatesigningrequests.certificates.k8s.io "mallory" is forbidden: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed',
    );
    await csrApi('create', csr('other', masters, { signerName: 'example.com/mine' }));
  });
});

describe('CSR validation (upstream validation.go)', () => {
  it('names each field', async () => {
    const e = await error(
      csrApi(
        'create',
        csr('bad', JANE_CSR_PEM, {
          signerName: 'kubernetes.io/legacy-unknown',
          usages: ['client auth', 'client auth', 'flying'],
          expirationSeconds: 599,
        }),
      ),
    );
    expect(e.reason).toBe('Invalid');
    expect(e.message).toContain('spec.usages[1]: Duplicate value: "client auth"');
    expect(e.message).toContain('spec.usages[2]: Unsupported value: "flying"');
    expect(e.message).toContain(
      'spec.signerName: Invalid value: "kubernetes.io/legacy-unknown": the legacy signerName is not allowed via this API version',
    );
    expect(e.message).toContain(
      'spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)',
    );
    const signer = await error(csrApi('create', csr('bad2', JANE_CSR_PEM, { signerName: 'example/x' })));
    expect(signer.message).toContain(
      'spec.signerName: Invalid value: "example": should be a domain with at least two segments separated by dots',
    );
    const none = await error(csrApi('create', csr('bad3', JANE_CSR_PEM, { signerName: '', usages: [] })));
    expect(none.message).toContain('spec.usages: Required value');
    expect(none.message).toContain('spec.signerName: Required value: signerName must be provided');
  });

  it('through /status neither Approved nor Denied can be added; a certificate is set once', async () => {
    grants.add('alice sign kubernetes.io/kube-apiserver-client');
    const created = await csrApi('create', csr('jane'));
    const e = await error(
      csrApi('update', withConditions(created, [{ type: 'Approved', status: 'True' }]), 'status'),
    );
    expect(e.message).toContain(
      'status.conditions: Forbidden: updates may not add a condition of type "Approved"',
    );
    // a Failed condition is the signer's to add, and stays
    const failed = await csrApi(
      'update',
      withConditions(created, [{ type: 'Failed', status: 'True', reason: 'SignerValidationFailure' }]),
      'status',
    );
    const removed = await error(csrApi('update', withConditions(failed, []), 'status'));
    expect(removed.message).toContain(
      'status.conditions: Forbidden: updates may not remove a condition of type "Failed"',
    );
  });
});
