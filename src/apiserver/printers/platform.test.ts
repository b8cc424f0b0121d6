// The platform kinds' table printers against upstream's printers.go (1.33): columns, cells and row order.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/request.js';
import { findResource } from '../../api/resources.js';
import { toTable } from './index.js';

const NOW = Date.parse('2026-05-01T12:00:00Z');
const CREATED = '2026-05-01T11:57:00Z';

function table(group: string, resource: string, objects: object[]) {
  const ri = findResource(group, resource);
  if (!ri) throw new Error(`no resource ${group}/${resource}`);
  return toTable(ri, objects as KubeObject[], { now: NOW });
}
const columns = (group: string, resource: string): string[] =>
  table(group, resource, []).columnDefinitions.map((c) => (c.priority ? `${c.name}*` : c.name));
const cells = (group: string, resource: string, obj: object): unknown[] =>
  table(group, resource, [obj]).rows[0].cells;
const meta = (name: string) => ({ name, creationTimestamp: CREATED });
const RBAC = 'rbac.authorization.k8s.io';
const ADM = 'admissionregistration.k8s.io';
const FC = 'flowcontrol.apiserver.k8s.io';

describe('platform printers', () => {
  it('Role, ClusterRole and CRD: the default table convertor (NAME, CREATED AT in RFC 3339)', () => {
    for (const [g, r] of [
      [RBAC, 'roles'],
      [RBAC, 'clusterroles'],
      ['apiextensions.k8s.io', 'customresourcedefinitions'],
    ]) {
      expect(columns(g, r)).toEqual(['Name', 'Created At']);
      expect(table(g, r, []).columnDefinitions[1].type).toBe('date');
      expect(cells(g, r, { metadata: meta('x') })).toEqual(['x', CREATED]);
    }
  });

  it('RoleBinding and ClusterRoleBinding: ROLE as Kind/name, subjects by kind when wide', () => {
    expect(columns(RBAC, 'rolebindings')).toEqual([
      'Name',
      'Role',
      'Age',
      'Users*',
      'Groups*',
      'ServiceAccounts*',
    ]);
    expect(
      cells(RBAC, 'clusterrolebindings', {
        metadata: meta('b'),
        roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' },
        subjects: [
          { kind: 'User', name: 'jane' },
          { kind: 'User', name: 'joe' },
          { kind: 'Group', name: 'devs' },
          { kind: 'ServiceAccount', name: 'default', namespace: 'kube-system' },
        ],
      }),
    ).toEqual(['b', 'ClusterRole/view', '3m', 'jane, joe', 'devs', 'kube-system/default']);
  });

  it('webhook configurations count their webhooks; policies show validations, param kind and ref', () => {
    expect(columns(ADM, 'validatingwebhookconfigurations')).toEqual(['Name', 'Webhooks', 'Age']);
    expect(cells(ADM, 'mutatingwebhookconfigurations', { metadata: meta('w'), webhooks: [{}, {}] })).toEqual([
      'w',
      2,
      '3m',
    ]);
    expect(columns(ADM, 'validatingadmissionpolicies')).toEqual(['Name', 'Validations', 'ParamKind', 'Age']);
    expect(
      cells(ADM, 'validatingadmissionpolicies', {
        metadata: meta('p'),
        spec: { validations: [{}], paramKind: { apiVersion: 'rules.example.com/v1', kind: 'ReplicaLimit' } },
      }),
    ).toEqual(['p', 1, 'rules.example.com/v1/ReplicaLimit', '3m']);
    expect(cells(ADM, 'validatingadmissionpolicies', { metadata: meta('p'), spec: {} })[2]).toBe('<unset>');
    expect(columns(ADM, 'validatingadmissionpolicybindings')).toEqual([
      'Name',
      'PolicyName',
      'ParamRef',
      'Age',
    ]);
    const ref = (paramRef: object) =>
      cells(ADM, 'validatingadmissionpolicybindings', {
        metadata: meta('b'),
        spec: { policyName: 'p', paramRef },
      })[2];
    expect(ref({ name: 'limits', namespace: 'default' })).toBe('default/limits');
    expect(ref({ name: 'limits' })).toBe('*/limits');
    expect(ref({ selector: { matchLabels: { env: 'test' } } })).toBe('env=test');
  });

  it('FlowSchemas sort by matching precedence and show MissingPL from the Dangling condition', () => {
    expect(columns(FC, 'flowschemas')).toEqual([
      'Name',
      'PriorityLevel',
      'MatchingPrecedence',
      'DistinguisherMethod',
      'Age',
      'MissingPL',
    ]);
    const fs = (name: string, precedence: number, dangling?: string) => ({
      metadata: meta(name),
      spec: { priorityLevelConfiguration: { name: 'pl' }, matchingPrecedence: precedence },
      ...(dangling ? { status: { conditions: [{ type: 'Dangling', status: dangling }] } } : {}),
    });
    const t = table(FC, 'flowschemas', [fs('zeta', 1, 'False'), fs('b', 500), fs('a', 500, 'True')]);
    expect(t.rows.map((r) => r.cells)).toEqual([
      ['zeta', 'pl', 1, '<none>', '3m', 'False'],
      ['a', 'pl', 500, '<none>', '3m', 'True'],
      ['b', 'pl', 500, '<none>', '3m', '?'],
    ]);
  });

  it('PriorityLevelConfigurations show <none> where there is no queuing', () => {
    expect(
      cells(FC, 'prioritylevelconfigurations', {
        metadata: meta('exempt'),
        spec: { type: 'Exempt', exempt: {} },
      }),
    ).toEqual(['exempt', 'Exempt', '<none>', '<none>', '<none>', '<none>', '3m']);
    expect(
      cells(FC, 'prioritylevelconfigurations', {
        metadata: meta('q'),
        spec: {
          type: 'Limited',
          limited: {
            nominalConcurrencyShares: 30,
            limitResponse: { type: 'Queue', queuing: { queues: 64, handSize: 8, queueLengthLimit: 50 } },
          },
        },
      }),
    ).toEqual(['q', 'Limited', 30, 64, 8, 50, '3m']);
  });

  it('CSRs: signer, requestor, requested duration and condition as extractCSRStatus', () => {
    expect(columns('certificates.k8s.io', 'certificatesigningrequests')).toEqual([
      'Name',
      'Age',
      'SignerName',
      'Requestor',
      'RequestedDuration',
      'Condition',
    ]);
    const csr = (status: object, expirationSeconds?: number) =>
      cells('certificates.k8s.io', 'certificatesigningrequests', {
        metadata: meta('c'),
        spec: { signerName: 'kubernetes.io/kube-apiserver-client', username: 'jane', expirationSeconds },
        status,
      });
    expect(csr({}, 86400)).toEqual([
      'c',
      '3m',
      'kubernetes.io/kube-apiserver-client',
      'jane',
      '24h',
      'Pending',
    ]);
    expect(csr({ conditions: [{ type: 'Approved' }], certificate: 'QQ==' })[5]).toBe('Approved,Issued');
    expect(csr({ conditions: [{ type: 'Denied' }, { type: 'Failed' }] })[5]).toBe('Denied,Failed');
    expect(csr({})[4]).toBe('<none>');
  });

  it('NetworkPolicy, IPAddress and ServiceCIDR', () => {
    expect(columns('networking.k8s.io', 'networkpolicies')).toEqual(['Name', 'Pod-Selector', 'Age']);
    expect(
      cells('networking.k8s.io', 'networkpolicies', { metadata: meta('n'), spec: { podSelector: {} } })[1],
    ).toBe('<none>');
    expect(columns('networking.k8s.io', 'ipaddresses')).toEqual(['Name', 'ParentRef']);
    expect(
      cells('networking.k8s.io', 'ipaddresses', {
        metadata: meta('10.0.0.1'),
        spec: {
          parentRef: {
            group: 'Gateway.Networking.k8s.io',
            resource: 'Gateways',
            name: 'gw',
            namespace: 'ns',
          },
        },
      }),
    ).toEqual(['10.0.0.1', 'gateways.gateway.networking.k8s.io/ns/gw']);
    expect(
      cells('networking.k8s.io', 'servicecidrs', {
        metadata: meta('s'),
        spec: { cidrs: ['10.0.0.0/16', 'fd00::/108'] },
      }),
    ).toEqual(['s', '10.0.0.0/16,fd00::/108', '3m']);
  });
});
