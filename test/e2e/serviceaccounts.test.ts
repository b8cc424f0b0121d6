// Issue #21, ServiceAccount tokens in pods and the Node authorizer, from the user's side with the real kubectl: a pod
// reads its projected token, CA and namespace at /var/run/secrets/kubernetes.io/serviceaccount and calls the
// apiserver with curl as the docs' "Accessing the Kubernetes API from a Pod" does (403, then 200 once a RoleBinding
// grants its ServiceAccount the pods); `kubectl create token` works with `kubectl --token` until the ServiceAccount is
// deleted; automountServiceAccountToken: false mounts nothing; a kubelet's own credential cannot read a Secret of a
// pod on another node, nor change another Node. One cluster, two nodes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentKubeconfig } from '../../src/cli/cluster/layout.js';
import { run, upCluster, type Run, type TestCluster } from '../helpers/cluster.js';
import { ensureCommands } from '../helpers/tools.js';
import { kubectlBin } from '../helpers/kubectl.js';

let c: TestCluster;
let server: string;
let caFile: string;

const must = (r: Run, what: string): string => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
};
/** kubectl with a bearer token and nothing else of the admin's kubeconfig */
const kubectlWithToken = (token: string, args: string[]): Promise<Run> =>
  run(
    kubectlBin(),
    [
      '--kubeconfig',
      '/dev/null',
      '--server',
      server,
      '--certificate-authority',
      caFile,
      '--token',
      token,
      ...args,
    ],
    process.env,
    { timeoutMs: 30_000 },
  );
const kubectlAsNode = (node: string, args: string[]): Promise<Run> =>
  run(
    kubectlBin(),
    ['--kubeconfig', componentKubeconfig(c.stateDir, `kubelet-${node}`), ...args],
    process.env,
    {
      timeoutMs: 30_000,
    },
  );

// the docs' example (kubernetes.io/docs/tasks/run-application/access-api-from-pod/), in a loop, with curl
const API_CLIENT = `apiVersion: v1
kind: Pod
metadata:
  name: api-client
spec:
  containers:
  - name: client
    image: busybox:1.36
    command:
    - sh
    - -c
    - |
      SERVICEACCOUNT=/var/run/secrets/kubernetes.io/serviceaccount
      NAMESPACE=$(cat \${SERVICEACCOUNT}/namespace)
      CACERT=\${SERVICEACCOUNT}/ca.crt
      APISERVER=https://\${KUBERNETES_SERVICE_HOST}:\${KUBERNETES_SERVICE_PORT}
      while true; do
        TOKEN=$(cat \${SERVICEACCOUNT}/token)
        code=$(curl -s -o /dev/null -w '%{http_code}' --cacert \${CACERT} --header "Authorization: Bearer \${TOKEN}" \${APISERVER}/api/v1/namespaces/\${NAMESPACE}/pods)
        echo "namespace=\${NAMESPACE} code=\${code}"
        sleep 1
      done
`;

beforeAll(async () => {
  ensureCommands([['curl', 'curl']]);
  c = await upCluster({ nodes: 2 });
  server = must(
    await c.kubectl(['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}']),
    'server',
  ).trim();
  caFile = join(c.stateDir, 'pki', 'ca.crt');
}, 120_000);

afterAll(async () => {
  await c?.down();
});

describe('ServiceAccount tokens in pods', () => {
  it('a pod calls the apiserver with its projected token: 403, then 200 after a RoleBinding', async () => {
    must(await c.kubectl(['apply', '-f', '-'], { input: API_CLIENT }), 'apply api-client');
    const pod = await c.waitFor('api-client running', async () => {
      const p = await c.getJson(['get', 'pod', 'api-client', '-o', 'json']);
      return p.status?.phase === 'Running' ? p : undefined;
    });
    // the ServiceAccount admission's projected volume, as upstream writes it
    const vol = pod.spec.volumes.find((v: { name: string }) => v.name.startsWith('kube-api-access-'));
    expect(vol.projected.sources).toEqual([
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      {
        downwardAPI: {
          items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
        },
      },
    ]);
    expect(pod.spec.containers[0].volumeMounts).toContainEqual({
      name: vol.name,
      readOnly: true,
      mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
    });
    await c.waitFor('403 from the pod', async () => {
      const logs = await c.kubectl(['logs', 'api-client']);
      return logs.stdout.includes('namespace=default code=403') || undefined;
    });
    must(
      await c.kubectl(['create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods']),
      'create role',
    );
    must(
      await c.kubectl([
        'create',
        'rolebinding',
        'default-pod-reader',
        '--role=pod-reader',
        '--serviceaccount=default:default',
      ]),
      'create rolebinding',
    );
    await c.waitFor('200 from the pod', async () => {
      const logs = await c.kubectl(['logs', 'api-client', '--tail=3']);
      return logs.stdout.includes('code=200') || undefined;
    });
    // the token the kubelet wrote is the pod's: TokenReview names the ServiceAccount and the pod
    const token = must(
      await c.kubectl([
        'exec',
        'api-client',
        '--',
        'cat',
        '/var/run/secrets/kubernetes.io/serviceaccount/token',
      ]),
      'read token',
    ).trim();
    const review = JSON.parse(
      must(
        await c.kubectl(['create', '-f', '-', '-o', 'json'], {
          input: JSON.stringify({
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenReview',
            spec: { token },
          }),
        }),
        'TokenReview',
      ),
    );
    expect(review.status.authenticated).toBe(true);
    expect(review.status.user.username).toBe('system:serviceaccount:default:default');
    expect(review.status.user.groups).toEqual([
      'system:serviceaccounts',
      'system:serviceaccounts:default',
      'system:authenticated',
    ]);
    expect(review.status.user.extra['authentication.kubernetes.io/pod-name']).toEqual(['api-client']);
    expect(review.status.user.extra['authentication.kubernetes.io/pod-uid']).toEqual([pod.metadata.uid]);
    // the kube-root-ca.crt ConfigMap is in every namespace, holding the cluster CA
    must(await c.kubectl(['create', 'namespace', 'elsewhere']), 'create namespace');
    const cm = await c.waitFor('kube-root-ca.crt in a new namespace', async () => {
      const r = await c.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'elsewhere', '-o', 'json']);
      return r.code === 0 ? JSON.parse(r.stdout) : undefined;
    });
    expect(cm.data['ca.crt']).toBe(readFileSync(caFile, 'utf8'));
    // the pod's token dies with the pod
    must(await c.kubectl(['delete', 'pod', 'api-client', '--grace-period=0', '--force']), 'delete pod');
    // kubectl's words for a 401: "(Unauthorized)" from the request itself, or "(the server has asked for the client
    // to provide credentials)" when its discovery (no cache yet for this server) met the 401 first
    await c.waitFor("the deleted pod's token refused", async () => {
      const r = await kubectlWithToken(token, ['get', 'pods']);
      return (r.code !== 0 && /error: You must be logged in to the server/.test(r.stderr)) || undefined;
    });
  }, 180_000);

  it('automountServiceAccountToken: false leaves no token in the pod', async () => {
    const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: no-token
spec:
  automountServiceAccountToken: false
  restartPolicy: Never
  containers:
  - name: c
    image: busybox:1.36
    command: ['sh', '-c', 'ls /var/run/secrets/kubernetes.io/serviceaccount/token 2>&1; echo "KUBERNETES_SERVICE_HOST=$KUBERNETES_SERVICE_HOST"; sleep 3600']
`;
    must(await c.kubectl(['apply', '-f', '-'], { input: manifest }), 'apply no-token');
    const logs = await c.waitFor('no-token logs', async () => {
      const r = await c.kubectl(['logs', 'no-token']);
      return r.stdout.includes('KUBERNETES_SERVICE_HOST=') ? r.stdout : undefined;
    });
    expect(logs).toMatch(/No such file or directory/);
    expect(logs).toMatch(/KUBERNETES_SERVICE_HOST=\S+/);
    const pod = await c.getJson(['get', 'pod', 'no-token', '-o', 'json']);
    expect(
      (pod.spec.volumes ?? []).filter((v: { name: string }) => v.name.startsWith('kube-api-access-')),
    ).toEqual([]);
    must(await c.kubectl(['delete', 'pod', 'no-token', '--grace-period=0', '--force']), 'delete');
  }, 120_000);
});

describe('kubectl create token', () => {
  it('a token works with kubectl --token until its ServiceAccount is deleted', async () => {
    must(await c.kubectl(['create', 'serviceaccount', 'bot']), 'create sa');
    const tooShort = await c.kubectl(['create', 'token', 'bot', '--duration=1m']);
    expect(tooShort.code).not.toBe(0);
    expect(tooShort.stderr).toContain(
      'spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
    );
    const token = must(await c.kubectl(['create', 'token', 'bot', '--duration=15m']), 'create token').trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    expect(claims.iss).toBe('https://kubernetes.default.svc.cluster.local');
    expect(claims.aud).toEqual(['https://kubernetes.default.svc.cluster.local']);
    expect(claims.exp - claims.iat).toBe(900);
    expect(claims.sub).toBe('system:serviceaccount:default:bot');
    expect(claims['kubernetes.io'].serviceaccount.name).toBe('bot');
    const whoami = must(await kubectlWithToken(token, ['auth', 'whoami', '-o', 'json']), 'whoami');
    expect(JSON.parse(whoami).status.userInfo.username).toBe('system:serviceaccount:default:bot');
    const denied = await kubectlWithToken(token, ['get', 'secrets']);
    expect(denied.stderr).toContain(
      'secrets is forbidden: User "system:serviceaccount:default:bot" cannot list resource "secrets" in API group "" in the namespace "default"',
    );
    // a token for another audience is not the apiserver's
    const other = must(
      await c.kubectl(['create', 'token', 'bot', '--audience=vault']),
      'create token --audience',
    ).trim();
    expect((await kubectlWithToken(other, ['auth', 'whoami'])).stderr).toMatch(/Unauthorized/);
    // bound to a Secret: it lives as long as the Secret
    must(
      await c.kubectl(['create', 'secret', 'generic', 'bot-anchor', '--from-literal=a=b']),
      'create secret',
    );
    const bound = must(
      await c.kubectl([
        'create',
        'token',
        'bot',
        '--bound-object-kind=Secret',
        '--bound-object-name=bot-anchor',
      ]),
      'create bound token',
    ).trim();
    must(await kubectlWithToken(bound, ['auth', 'whoami']), 'bound token whoami');
    must(await c.kubectl(['delete', 'secret', 'bot-anchor']), 'delete secret');
    await c.waitFor('secret-bound token refused', async () => {
      const r = await kubectlWithToken(bound, ['auth', 'whoami']);
      return (r.code !== 0 && /error: You must be logged in to the server/.test(r.stderr)) || undefined;
    });
    must(await c.kubectl(['delete', 'serviceaccount', 'bot']), 'delete sa');
    await c.waitFor('token refused after the ServiceAccount is gone', async () => {
      const r = await kubectlWithToken(token, ['get', 'pods']);
      return (
        (r.code !== 0 && r.stderr.includes('error: You must be logged in to the server (Unauthorized)')) ||
        undefined
      );
    });
  }, 120_000);

  it('serves OIDC discovery and the JWKS that verify the tokens', async () => {
    const config = JSON.parse(
      must(await c.kubectl(['get', '--raw', '/.well-known/openid-configuration']), 'discovery'),
    );
    expect(config.issuer).toBe('https://kubernetes.default.svc.cluster.local');
    expect(config.jwks_uri).toMatch(/^https:\/\/.+\/openid\/v1\/jwks$/);
    expect(config.id_token_signing_alg_values_supported).toEqual(['RS256']);
    const jwks = JSON.parse(must(await c.kubectl(['get', '--raw', '/openid/v1/jwks']), 'jwks'));
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ use: 'sig', kty: 'RSA', alg: 'RS256' });
    const token = must(await c.kubectl(['create', 'token', 'default']), 'create token').trim();
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    expect(header).toEqual({ alg: 'RS256', kid: jwks.keys[0].kid });
  }, 60_000);
});

describe('the Node authorizer and NodeRestriction', () => {
  it("a kubelet's credential reads only its own pods' secrets and modifies only its own Node", async () => {
    must(
      await c.kubectl(['create', 'secret', 'generic', 'on-node-2', '--from-literal=password=s3cret']),
      'secret',
    );
    const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: uses-secret
spec:
  nodeName: node-2
  containers:
  - name: c
    image: busybox:1.36
    command: ['sh', '-c', 'sleep 3600']
    env:
    - name: PASSWORD
      valueFrom:
        secretKeyRef:
          name: on-node-2
          key: password
`;
    must(await c.kubectl(['apply', '-f', '-'], { input: manifest }), 'apply uses-secret');
    await c.waitFor('uses-secret running', async () => {
      const p = await c.getJson(['get', 'pod', 'uses-secret', '-o', 'json']);
      return p.status?.phase === 'Running' || undefined;
    });
    must(await kubectlAsNode('node-2', ['get', 'secret', 'on-node-2']), "node-2 reads its pod's secret");
    const denied = await kubectlAsNode('node-1', ['get', 'secret', 'on-node-2']);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain(
      `secrets "on-node-2" is forbidden: User "system:node:node-1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'node-1' and this object`,
    );
    // listing every secret is no kubelet's business
    expect((await kubectlAsNode('node-2', ['get', 'secrets'])).stderr).toContain(
      'User "system:node:node-2" cannot list resource "secrets"',
    );
    const relabel = await kubectlAsNode('node-1', ['label', 'node', 'node-2', 'stolen=yes']);
    expect(relabel.code).not.toBe(0);
    expect(relabel.stderr).toContain(
      'nodes "node-2" is forbidden: node "node-1" is not allowed to modify node "node-2"',
    );
    must(await kubectlAsNode('node-1', ['label', 'node', 'node-1', 'mine=yes']), 'label own node');
    // the kubelets are no longer cluster-admins
    expect((await kubectlAsNode('node-1', ['auth', 'whoami', '-o', 'json'])).stdout).not.toContain(
      'system:masters',
    );
    expect((await kubectlAsNode('node-1', ['delete', 'namespace', 'elsewhere'])).stderr).toContain(
      'forbidden',
    );
  }, 120_000);
});
