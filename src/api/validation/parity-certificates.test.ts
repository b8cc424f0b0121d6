// certificates.k8s.io/v1 CertificateSigningRequest validation against upstream: pkg/apis/certificates/validation/
// validation.go (ValidateCertificateSigningRequestCreate/Update/StatusUpdate/ApprovalUpdate, getValidationOptions)
// and the cases of its validation_test.go (TestValidateCertificateSigningRequest), by their names. The request is a
// real PKCS#10 request, made as `openssl req` does.
import { beforeAll, describe, expect, it } from 'vitest';
import { fieldErrorString } from '../errors.js';
import { makeRequestPem } from '../../testing/certificate-requests.js';
import { validateObject } from './index.js';
import { createErrors, gvkOf, prepared, statusErrors, updateErrors } from './test-fixtures.js';

let request = '';
beforeAll(async () => {
  request = Buffer.from(await makeRequestPem({ cn: 'testcsr', o: ['testing-org'] })).toString('base64');
});

const csr = (spec: Record<string, unknown>): any => ({
  apiVersion: 'certificates.k8s.io/v1',
  kind: 'CertificateSigningRequest',
  metadata: { name: 'testcsr' },
  spec: { request, usages: ['key encipherment'], signerName: 'example.com/valid-name', ...spec },
});
const repeat = (s: string, n: number): string => s.repeat(n);
const maxLengthFQDN = `${repeat('a', 63)}.${repeat('a', 63)}.${repeat('a', 63)}.${repeat('a', 61)}`;
const maxLengthSignerName = `${maxLengthFQDN}/${repeat('a', 63)}.${repeat('a', 253)}`;
const subdomainMsg = (label: string): string =>
  `validating label "${label}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`;

describe('CertificateSigningRequest (TestValidateCertificateSigningRequest)', () => {
  it.each<[string, () => Record<string, unknown>, string[]]>([
    [
      'CSR with invalid request data should fail',
      () => ({ request: Buffer.from('invalid data').toString('base64') }),
      ['spec.request: Invalid value: "aW52YWxpZCBkYXRh": PEM block type must be CERTIFICATE REQUEST'],
    ],
    ['CSR with no usages should fail', () => ({ usages: [] }), ['spec.usages: Required value']],
    [
      'CSR with no signerName set should fail',
      () => ({ signerName: '' }),
      ['spec.signerName: Required value: signerName must be provided'],
    ],
    [
      "signerName contains no '/'",
      () => ({ signerName: 'an-invalid-signer-name' }),
      [
        `spec.signerName: Invalid value: "an-invalid-signer-name": must be a fully qualified domain and path of the form 'example.com/signer-name'`,
      ],
    ],
    [
      "signerName contains two '/'",
      () => ({ signerName: 'an-invalid-signer-name.com/something/else' }),
      [
        `spec.signerName: Invalid value: "an-invalid-signer-name.com/something/else": must be a fully qualified domain and path of the form 'example.com/signer-name'`,
      ],
    ],
    [
      'signerName domain component is not fully qualified',
      () => ({ signerName: 'example/some-signer-name' }),
      [
        'spec.signerName: Invalid value: "example": should be a domain with at least two segments separated by dots',
      ],
    ],
    [
      'signerName path component is empty',
      () => ({ signerName: 'example.com/' }),
      [`spec.signerName: Invalid value: "": ${subdomainMsg('')}`],
    ],
    [
      'signerName path component ends with a symbol',
      () => ({ signerName: 'example.com/something-' }),
      [`spec.signerName: Invalid value: "something-": ${subdomainMsg('something-')}`],
    ],
    [
      'signerName path component is a symbol',
      () => ({ signerName: 'example.com/-' }),
      [`spec.signerName: Invalid value: "-": ${subdomainMsg('-')}`],
    ],
    [
      "signerName path component contains no '.' but is valid",
      () => ({ signerName: 'example.com/some-signer-name' }),
      [],
    ],
    [
      'signerName with a total length greater than 571 characters should be rejected',
      () => ({ signerName: `${maxLengthSignerName}.toolong` }),
      [`spec.signerName: Too long: may not be more than ${maxLengthSignerName.length} bytes`],
    ],
    [
      'signerName with a fqdn greater than 253 characters should be rejected',
      () => ({ signerName: `${maxLengthFQDN}.extra/valid-path` }),
      [`spec.signerName: Too long: may not be more than ${maxLengthFQDN.length} bytes`],
    ],
    [
      'signerName can have a longer path if the domain component is less than the max length',
      () => ({ signerName: `abc.io/${repeat('a', 253)}.${repeat('a', 253)}` }),
      [],
    ],
    [
      'signerName with a domain label greater than 63 characters will fail',
      () => ({ signerName: `${repeat('a', 66)}.example.io/valid-path` }),
      [
        `spec.signerName: Invalid value: "${repeat('a', 66)}.example.io": validating label "${repeat('a', 66)}": must be no more than 63 characters`,
      ],
    ],
    [
      'signerName of max length in format <fully-qualified-domain-name>/<resource-namespace>.<resource-name> is valid',
      () => ({ signerName: maxLengthSignerName }),
      [],
    ],
    [
      'unknown and duplicate usages',
      () => ({ usages: ['key encipherment', 'key encipherment', 'flying'] }),
      [
        expect.stringMatching(
          /^spec\.usages\[2\]: Unsupported value: "flying": supported values: "any", "cert sign", /,
        ),
        'spec.usages[1]: Duplicate value: "key encipherment"',
      ],
    ],
    [
      'the legacy signerName is refused through v1',
      () => ({ signerName: 'kubernetes.io/legacy-unknown' }),
      [
        'spec.signerName: Invalid value: "kubernetes.io/legacy-unknown": the legacy signerName is not allowed via this API version',
      ],
    ],
    [
      'expirationSeconds of at least 600',
      () => ({ expirationSeconds: 599 }),
      [
        'spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)',
      ],
    ],
    ['expirationSeconds 600 is fine', () => ({ expirationSeconds: 600 }), []],
  ])('%s', (_name, spec, expected) => {
    expect(createErrors(csr(spec()))).toEqual(expected);
  });
});

const approvalErrors = (before: unknown, mutate: (o: any) => void): string[] => {
  const old = prepared(before);
  const next = structuredClone(old);
  mutate(next);
  return validateObject(gvkOf(before as any), next, { old, subresource: 'approval' }).map(fieldErrorString);
};
const withConditions = (conditions: unknown[]) => (o: any) => (o.status = { ...o.status, conditions });

describe('who may set which conditions (ValidateCertificateSigningRequest{Update,StatusUpdate,ApprovalUpdate})', () => {
  it('/approval may add Approved or Denied, but not both; the status values are True only', () => {
    expect(approvalErrors(csr({}), withConditions([{ type: 'Approved', status: 'True' }]))).toEqual([]);
    expect(
      approvalErrors(
        csr({}),
        withConditions([
          { type: 'Approved', status: 'True' },
          { type: 'Denied', status: 'True' },
        ]),
      ),
    ).toEqual([
      'status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive',
    ]);
    expect(approvalErrors(csr({}), withConditions([{ type: 'Approved', status: 'False' }]))).toEqual([
      'status.conditions[0].status: Unsupported value: "False": supported values: "True"',
    ]);
    expect(
      approvalErrors(
        csr({}),
        withConditions([
          { type: 'Approved', status: 'True' },
          { type: 'Approved', status: 'True' },
        ]),
      ),
    ).toEqual(['status.conditions[1].type: Duplicate value: "Approved"']);
  });

  it('the main resource and /status may not add, change or remove Approved/Denied', () => {
    for (const errs of [
      updateErrors(csr({}), withConditions([{ type: 'Denied', status: 'True' }])),
      statusErrors(csr({}), withConditions([{ type: 'Denied', status: 'True' }])),
    ])
      expect(errs).toEqual([
        'status.conditions: Forbidden: updates may not add a condition of type "Denied"',
      ]);
    const approved = csr({});
    approved.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'A' }] };
    expect(statusErrors(approved, withConditions([]))).toEqual([
      'status.conditions: Forbidden: updates may not remove a condition of type "Approved"',
    ]);
    expect(
      statusErrors(approved, withConditions([{ type: 'Approved', status: 'True', reason: 'B' }])),
    ).toEqual(['status.conditions: Forbidden: updates may not modify a condition of type "Approved"']);
  });

  it('status.certificate only through /status, and only once', () => {
    const pem = Buffer.from('not a certificate').toString('base64');
    expect(updateErrors(csr({}), (o: any) => (o.status = { certificate: pem }))).toEqual([
      'status.certificate: Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block',
      'status.certificate: Forbidden: updates may not set certificate content',
    ]);
    expect(statusErrors(csr({}), (o: any) => (o.status = { certificate: pem }))).toEqual([
      'status.certificate: Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block',
    ]);
  });
});
