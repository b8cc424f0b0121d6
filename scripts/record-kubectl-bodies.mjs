// Records the protobuf request bodies real kubectl sends for its `create` subcommands into
// src/api/protobuf/testdata/kubectl-bodies.json, the golden data of the protobuf decoder's tests.
//
// A throw-away HTTP server on 127.0.0.1 serves legacy discovery for the groups the commands need (kubectl writes
// protobuf only for built-in kinds it finds there, and `create role` maps --resource through discovery), answers each
// protobuf POST with 201 and records the body. The JSON each body must decode to is kubectl's own JSON rendering of
// the same object: the command re-run with `--dry-run=client -o json`, with the nulls Go renders for unset Times
// (`creationTimestamp: null`) dropped, as the decoder leaves unset fields out. `kubectl create token` has no dry run;
// its JSON is written out below from the command's flags.
//
//   node scripts/record-kubectl-bodies.mjs            record the cases below, replacing same-named ones
//   node scripts/record-kubectl-bodies.mjs --print    print what would be recorded, write nothing
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(root, 'src/api/protobuf/testdata/kubectl-bodies.json');
const SDK = '/usr/lib/google-cloud-sdk/bin';
const PROTOBUF = 'application/vnd.kubernetes.protobuf';

/** discovery: group → version → resources [name, kind, namespaced, shortNames] */
const DISCOVERY = {
  '': {
    v1: [
      ['namespaces', 'Namespace', false, ['ns']],
      ['pods', 'Pod', true, ['po']],
      ['pods/status', 'Pod', true, []],
      ['services', 'Service', true, ['svc']],
      ['secrets', 'Secret', true, []],
      ['configmaps', 'ConfigMap', true, ['cm']],
      ['serviceaccounts', 'ServiceAccount', true, ['sa']],
      ['serviceaccounts/token', 'TokenRequest', true, []],
      ['resourcequotas', 'ResourceQuota', true, ['quota']],
    ],
  },
  apps: { v1: [['deployments', 'Deployment', true, ['deploy']]] },
  batch: {
    v1: [
      ['jobs', 'Job', true, []],
      ['cronjobs', 'CronJob', true, ['cj']],
    ],
  },
  'rbac.authorization.k8s.io': {
    v1: [
      ['roles', 'Role', true, []],
      ['rolebindings', 'RoleBinding', true, []],
      ['clusterroles', 'ClusterRole', false, []],
      ['clusterrolebindings', 'ClusterRoleBinding', false, []],
    ],
  },
  policy: { v1: [['poddisruptionbudgets', 'PodDisruptionBudget', true, ['pdb']]] },
  'scheduling.k8s.io': { v1: [['priorityclasses', 'PriorityClass', false, ['pc']]] },
};

const UID = '0a4b6bd4-5c3e-4d0f-9a41-5b1a4f0e7c11';

/** [kubectl version, command name as recorded, args after `kubectl`, expected JSON if no dry run] */
const CASES = [
  [
    '1.33',
    'kubectl create job',
    [
      'create',
      'job',
      'pi',
      '-n',
      'demo',
      '--image=perl:5.34.0',
      '--',
      'perl',
      '-Mbignum=bpi',
      '-wle',
      'print bpi(2000)',
    ],
  ],
  [
    '1.33',
    'kubectl create cronjob',
    [
      'create',
      'cronjob',
      'hello',
      '-n',
      'demo',
      '--image=busybox:1.28',
      '--schedule=*/5 * * * *',
      '--restart=OnFailure',
      '--',
      'date',
    ],
  ],
  [
    '1.33',
    'kubectl create role',
    [
      'create',
      'role',
      'pod-reader',
      '-n',
      'demo',
      '--verb=get,list,watch',
      '--resource=pods,pods/status,deployments.apps',
      '--resource-name=web',
    ],
  ],
  [
    '1.33',
    'kubectl create rolebinding',
    [
      'create',
      'rolebinding',
      'read-pods',
      '-n',
      'demo',
      '--role=pod-reader',
      '--user=jane',
      '--group=devs',
      '--serviceaccount=demo:default',
    ],
  ],
  [
    '1.33',
    'kubectl create clusterrole',
    ['create', 'clusterrole', 'secret-reader', '--verb=get,list', '--resource=secrets', '--verb=watch'],
  ],
  [
    '1.32',
    'kubectl create clusterrole --aggregation-rule',
    [
      'create',
      'clusterrole',
      'monitoring',
      '--aggregation-rule=rbac.example.com/aggregate-to-monitoring=true',
    ],
  ],
  [
    '1.33',
    'kubectl create clusterrolebinding',
    [
      'create',
      'clusterrolebinding',
      'read-secrets',
      '--clusterrole=secret-reader',
      '--group=manager',
      '--user=jane',
    ],
  ],
  [
    '1.33',
    'kubectl create quota',
    ['create', 'quota', 'compute', '-n', 'demo', '--hard=cpu=1,memory=1Gi,pods=2,services.nodeports=0'],
  ],
  [
    '1.32',
    'kubectl create quota --scopes',
    ['create', 'quota', 'best-effort', '-n', 'demo', '--hard=pods=10', '--scopes=BestEffort'],
  ],
  [
    '1.33',
    'kubectl create poddisruptionbudget',
    ['create', 'poddisruptionbudget', 'web-pdb', '-n', 'demo', '--selector=app=web', '--min-available=1'],
  ],
  [
    '1.32',
    'kubectl create poddisruptionbudget --max-unavailable',
    [
      'create',
      'pdb',
      'db-pdb',
      '-n',
      'demo',
      '--selector=app=db,tier in (backend,cache)',
      '--max-unavailable=50%',
    ],
  ],
  [
    '1.33',
    'kubectl create priorityclass',
    [
      'create',
      'priorityclass',
      'high-priority',
      '--value=1000',
      '--description=for the web tier',
      '--preemption-policy=Never',
    ],
  ],
  [
    '1.32',
    'kubectl create priorityclass --global-default',
    ['create', 'pc', 'default-priority', '--value=0', '--global-default'],
  ],
  [
    '1.33',
    'kubectl create token',
    [
      'create',
      'token',
      'default',
      '-n',
      'demo',
      '--audience=https://kubemu.test',
      '--audience=vault',
      '--duration=10m',
      '--bound-object-kind=Pod',
      '--bound-object-name=web',
      `--bound-object-uid=${UID}`,
    ],
    {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: {},
      spec: {
        audiences: ['https://kubemu.test', 'vault'],
        expirationSeconds: 600,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web', uid: UID },
      },
      status: { token: '' },
    },
  ],
  [
    '1.32',
    'kubectl create token (defaults)',
    ['create', 'token', 'builder', '-n', 'demo'],
    {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: {},
      spec: {},
      status: { token: '' },
    },
  ],
];

function discovery(url) {
  if (url === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
  if (url === '/apis') {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: Object.entries(DISCOVERY)
        .filter(([g]) => g)
        .map(([name, versions]) => {
          const vs = Object.keys(versions).map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
          return { name, versions: vs, preferredVersion: vs[0] };
        }),
    };
  }
  const m = /^\/(?:api|apis\/([^/]+))\/([^/]+)$/.exec(url);
  const resources = m && DISCOVERY[m[1] ?? '']?.[m[2]];
  if (!resources) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: m[1] ? `${m[1]}/${m[2]}` : m[2],
    resources: resources.map(([name, kind, namespaced, shortNames]) => ({
      name,
      singularName: name.includes('/') ? '' : kind.toLowerCase(),
      namespaced,
      kind,
      verbs: name.includes('/')
        ? ['create', 'get']
        : ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      ...(shortNames.length && { shortNames }),
    })),
  };
}

function run(bin, kubeconfig, args) {
  return new Promise((resolve, reject) => {
    execFile(bin, ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** drop the nulls Go's JSON writes for unset Time values (and empty objects they leave nothing in) */
function dropNulls(value) {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, dropNulls(v)]),
    );
  }
  return value;
}

async function main() {
  let pending;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = req.url.split('?')[0];
      const doc = req.method === 'GET' ? discovery(url) : undefined;
      if (doc) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(doc));
        return;
      }
      if (req.method === 'POST' && pending) {
        const body = Buffer.concat(chunks);
        const type = req.headers['content-type'] ?? '';
        pending.resolve({ request: `POST ${url}`, body, type });
        // answer with what kubectl expects back: the object, plus a token for a TokenRequest
        const reply = { ...pending.json, status: { ...pending.json.status, token: 'recorded' } };
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify(pending.json.kind === 'TokenRequest' ? reply : pending.json));
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'NotFound',
          code: 404,
        }),
      );
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'record-kubectl-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: rec, cluster: {server: "http://127.0.0.1:' + server.address().port + '"}}]',
      'users: [{name: rec, user: {token: recorder}}]',
      'contexts: [{name: rec, context: {cluster: rec, user: rec}}]',
      'current-context: rec',
      '',
    ].join('\n'),
  );
  const recorded = [];
  try {
    for (const [version, command, args, handJson] of CASES) {
      const bin = join(SDK, `kubectl.${version}`);
      const kubectl = (await run(bin, kubeconfig, ['version', '--client', '-o', 'json'])).trim();
      const gitVersion = JSON.parse(kubectl).clientVersion.gitVersion;
      const dashdash = args.indexOf('--');
      const dryArgs =
        dashdash < 0
          ? [...args, '--dry-run=client', '-o', 'json']
          : [...args.slice(0, dashdash), '--dry-run=client', '-o', 'json', ...args.slice(dashdash)];
      const json = handJson ?? dropNulls(JSON.parse(await run(bin, kubeconfig, dryArgs)));
      const got = new Promise((resolve) => (pending = { resolve, json }));
      await run(bin, kubeconfig, args);
      const { request, body, type } = await got;
      pending = undefined;
      if (!type.startsWith(PROTOBUF))
        throw new Error(`${command}: kubectl ${version} sent ${type}, not protobuf`);
      recorded.push({
        kubectl: `kubectl.${version}/${gitVersion}`,
        command,
        request,
        body: body.toString('base64'),
        json,
      });
      process.stderr.write(`recorded ${command} (kubectl ${gitVersion}): ${request}, ${body.length} bytes\n`);
    }
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (process.argv.includes('--print')) {
    process.stdout.write(`${JSON.stringify(recorded, null, 2)}\n`);
    return;
  }
  const names = new Set(recorded.map((c) => c.command));
  const kept = JSON.parse(readFileSync(OUT, 'utf8')).filter((c) => !names.has(c.command));
  // formatted as the repository's prettier formats it, so a re-recording diffs only in what changed
  const prettier = await import('prettier');
  writeFileSync(
    OUT,
    await prettier.format(JSON.stringify([...kept, ...recorded], null, 2), {
      ...(await prettier.resolveConfig(OUT)),
      filepath: OUT,
    }),
  );
  process.stderr.write(`wrote ${recorded.length} cases to ${OUT}\n`);
}

await main();
