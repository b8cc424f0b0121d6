// The committed protobuf field table is exactly what scripts/gen-protobuf.mjs makes from api/upstream/: CI fails when
// someone edits one without the other. Plus the small renderings the generated table relies on.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeProtobufBody, goDuration, PROTOBUF_MAGIC } from './index.js';
import { KIND_MESSAGES, LIST_MESSAGES, MESSAGES } from './messages.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('the generated protobuf field table', () => {
  it('is what `npm run gen:protobuf` makes from the checked-in upstream .proto files', () => {
    const fresh = execFileSync(process.execPath, ['scripts/gen-protobuf.mjs', '--stdout'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const committed = readFileSync(new URL('./generated/messages.ts', import.meta.url), 'utf8');
    expect(
      fresh === committed,
      'src/api/protobuf/generated/messages.ts is stale: run npm run gen:protobuf',
    ).toBe(true);
  });

  it("has the kinds kubectl's create subcommands send, and every 1.33 group", () => {
    for (const kind of [
      'batch/v1/Job',
      'batch/v1/CronJob',
      'rbac.authorization.k8s.io/v1/Role',
      'rbac.authorization.k8s.io/v1/RoleBinding',
      'rbac.authorization.k8s.io/v1/ClusterRole',
      'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
      'v1/ResourceQuota',
      'policy/v1/PodDisruptionBudget',
      'scheduling.k8s.io/v1/PriorityClass',
      'authentication.k8s.io/v1/TokenRequest',
    ]) {
      expect(KIND_MESSAGES[kind], kind).toBeDefined();
    }
    const groups = new Set(Object.keys(KIND_MESSAGES).map((k) => k.split('/').slice(0, -2).join('/')));
    expect([...groups].sort()).toEqual([
      '',
      'admissionregistration.k8s.io',
      'apps',
      'authentication.k8s.io',
      'authorization.k8s.io',
      'autoscaling',
      'batch',
      'certificates.k8s.io',
      'coordination.k8s.io',
      'discovery.k8s.io',
      'events.k8s.io',
      'flowcontrol.apiserver.k8s.io',
      'internal.apiserver.k8s.io',
      'networking.k8s.io',
      'node.k8s.io',
      'policy',
      'rbac.authorization.k8s.io',
      'resource.k8s.io',
      'scheduling.k8s.io',
      'storage.k8s.io',
      'storagemigration.k8s.io',
    ]);
  });

  it('decodes named-slice wrappers (ExtraValue) as lists, an empty one as []', () => {
    const varint = (n: number): Buffer => Buffer.from([n]);
    const bytes = (field: number, data: Buffer): Buffer =>
      Buffer.concat([varint((field << 3) | 2), varint(data.length), data]);
    const str = (field: number, s: string): Buffer => bytes(field, Buffer.from(s));
    // TokenReview{status{user{username, extra{scopes: [a, b]}, extra{empty: []}}}}
    const user = Buffer.concat([
      str(1, 'jane'),
      bytes(4, Buffer.concat([str(1, 'scopes'), bytes(2, Buffer.concat([str(1, 'a'), str(1, 'b')]))])),
      bytes(4, Buffer.concat([str(1, 'empty'), bytes(2, Buffer.alloc(0))])),
    ]);
    const body = Buffer.concat([
      PROTOBUF_MAGIC,
      bytes(1, Buffer.concat([str(1, 'authentication.k8s.io/v1'), str(2, 'TokenReview')])),
      bytes(2, bytes(3, bytes(2, user))),
    ]);
    expect(decodeProtobufBody(body)).toMatchObject({
      status: { user: { username: 'jane', extra: { scopes: ['a', 'b'], empty: [] } } },
    });
  });

  it('marks named-slice wrappers (ExtraValue) as lists', () => {
    expect(LIST_MESSAGES.has('authentication.v1.ExtraValue')).toBe(true);
    expect(MESSAGES['authentication.v1.UserInfo']?.[4]).toEqual(['extra', 'authentication.v1.ExtraValue', 2]);
  });
});

describe('goDuration renders like Go time.Duration.String()', () => {
  it.each([
    [0n, '0s'],
    [1n, '1ns'],
    [1_500n, '1.5µs'],
    [150_000_000n, '150ms'],
    [1_000_000_000n, '1s'],
    [90_500_000_000n, '1m30.5s'],
    [3_600_000_000_000n, '1h0m0s'],
    [-2_000_000_000n, '-2s'],
  ])('%s ns → %s', (nanos, want) => {
    expect(goDuration(nanos)).toBe(want);
  });
});
