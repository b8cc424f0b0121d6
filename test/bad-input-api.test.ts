// Issue 17's apiserver-side reproductions: each request below crashed, stalled, answered 500 or was accepted where
// upstream refuses it. A real apiserver (and ingress gateway) from dist/, driven with curl, kubectl and raw HTTPS.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { apiClient, type Api } from './helpers/http.js';
import { startComponent, waitForLogLine, type ComponentProcess } from './helpers/process.js';
import { ensureCommands } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';
import { kubectlBin } from './helpers/kubectl.js';

let server: ApiServerProcess;
let api: Api;
const CM = '/api/v1/namespaces/default/configmaps';

beforeAll(async () => {
  ensureCommands([
    ['curl', 'curl'],
    ['kubectl', 'kubernetes-client'],
    ['unshare', 'util-linux'],
  ]);
  server = await startApiServer();
  api = apiClient(server);
}, 60_000);

afterAll(async () => {
  await server?.cleanup();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** curl as a user runs it against the apiserver: `-w` appends the status code on its own line */
async function curl(path: string, args: string[] = []): Promise<{ status: number; body: string }> {
  const caFile = join(server.stateDir, 'pki/ca.crt');
  const r = await run('curl', [
    '-sS',
    '--max-time',
    '20',
    '--cacert',
    caFile,
    '-H',
    `Authorization: Bearer ${server.token}`,
    '-w',
    '\n%{http_code}',
    ...args,
    `${server.url}${path}`,
  ]);
  expect(r.code, r.stderr).toBe(0);
  const cut = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
}

/** writes `request` as is and reads until the server closes the connection (or 10 s pass) */
function rawExchange(socket: Socket, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no close after: ${received}`)), 10_000);
    // a TLS socket says both: the request goes once, when the handshake is done
    socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('data', (c: Buffer) => (received += c.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

async function healthy(): Promise<void> {
  const r = await api('GET', '/healthz');
  expect(r.status).toBe(200);
}

/** `{"a":{"a":...1...}}`, `depth` objects deep */
function nestedJson(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

describe('a JSON patch of copies (CVE-2019-1002100)', () => {
  it('20 copy operations that double the object stop at 3 MiB of copies: 422, and the server keeps serving', async () => {
    const name = 'copy-bomb';
    expect((await api('POST', CM, { metadata: { name }, data: { k: 'v' } })).status).toBe(201);
    const ops: unknown[] = [{ op: 'add', path: '/d', value: { s: 'x'.repeat(60) } }];
    // each copy puts the whole of /d inside itself: 2^20 times the start, a gigabyte
    for (let i = 0; i < 20; i++) ops.push({ op: 'copy', from: '/d', path: `/d/c${i}` });
    const patch = JSON.stringify(ops);
    expect(patch.length).toBeLessThan(2048);
    const r = await api('PATCH', `${CM}/${name}`, undefined, {
      raw: patch,
      contentType: 'application/json-patch+json',
    });
    // upstream's answer for a patch that does not apply: 422 with its generic message
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({
      reason: 'Invalid',
      message: 'the server rejected our request due to an error in our request',
    });
    expect(server.logs()).not.toContain('heap out of memory');
    await healthy();
    // a few copies of a small object still apply
    const small = await api('PATCH', `${CM}/${name}`, undefined, {
      raw: JSON.stringify([{ op: 'copy', from: '/data/k', path: '/data/k2' }]),
      contentType: 'application/json-patch+json',
    });
    expect(small.status).toBe(200);
    expect(small.body.data).toEqual({ k: 'v', k2: 'v' });
  });
});

describe('an object grown by patches past what storage keeps', () => {
  it('is refused as etcd refuses it ("etcdserver: request is too large", 500), the stored one kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubemu-grow-'));
    const deployments = '/apis/apps/v1/namespaces/default/deployments';
    try {
      const name = 'grows';
      const labels = { app: name };
      const created = await api('POST', deployments, {
        metadata: { name },
        spec: {
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
        },
      });
      expect(created.status).toBe(201);
      // kubectl's default strategic merge patch adds one env var (merged by name) per patch; each patch is under
      // the 3 MiB body limit, and no validation bounds an env value, so only storage stops the growth
      const patch = (key: string): Promise<Run> => {
        const file = join(dir, `${key}.json`);
        const env = [{ name: key, value: 'y'.repeat(1_400_000) }];
        writeFileSync(
          file,
          JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'c', env }] } } } }),
        );
        return run(kubectlBin(), [
          '--kubeconfig',
          server.kubeconfig,
          'patch',
          'deployment',
          name,
          '--patch-file',
          file,
        ]);
      };
      for (const key of ['B', 'C']) {
        const r = await patch(key);
        expect(r.code, r.stderr).toBe(0);
      }
      const third = await patch('D');
      expect(third.code).not.toBe(0);
      expect(third.stderr).toContain('Error from server: etcdserver: request is too large');
      const kept = await api('GET', `${deployments}/${name}`);
      const env = (
        kept.body as { spec: { template: { spec: { containers: { env: { name: string }[] }[] } } } }
      ).spec.template.spec.containers[0].env;
      expect(env.map((e) => e.name).sort()).toEqual(['B', 'C']);
      await healthy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deeply nested bodies', () => {
  const depths = [1000, 10_000, 100_000];

  it.each(depths)('a JSON or YAML create nested %i deep → 400 exceeded max depth', async (depth) => {
    const json = `{"metadata":{"name":"deep-${depth}"},"bogus":${nestedJson(depth)}}`;
    const r = await api('POST', CM, undefined, { raw: json });
    expect(r.status, r.text.slice(0, 300)).toBe(400);
    expect(r.body.reason).toBe('BadRequest');
    expect(r.body.message).toContain("invalid character '{' exceeded max depth of 512");

    const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep-y-${depth}\nbogus: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
    const y = await api('POST', CM, undefined, { raw: yaml, contentType: 'application/yaml' });
    expect(y.status, y.text.slice(0, 300)).toBe(400);
    expect(y.body.message).toBe('error converting YAML to JSON: yaml: line 5: exceeded max depth of 512');
    await healthy();
  });

  it.each(depths)('every patch type, and apply, nested %i deep → 400, never 500', async (depth) => {
    const name = `deep-patch-${depth}`;
    expect((await api('POST', CM, { metadata: { name } })).status).toBe(201);
    const bodies: [string, string][] = [
      ['application/merge-patch+json', `{"bogus":${nestedJson(depth)}}`],
      ['application/strategic-merge-patch+json', `{"bogus":${nestedJson(depth)}}`],
      ['application/json-patch+json', `[{"op":"add","path":"/bogus","value":${nestedJson(depth)}}]`],
      [
        'application/apply-patch+yaml',
        `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"${name}"},"bogus":${nestedJson(depth)}}`,
      ],
    ];
    for (const [contentType, raw] of bodies) {
      const r = await api('PATCH', `${CM}/${name}?fieldManager=test`, undefined, { raw, contentType });
      expect(r.status, `${contentType}: ${r.text.slice(0, 300)}`).toBe(400);
      expect(r.body.message).toContain('exceeded max depth of 512');
    }
    await healthy();
  });

  it('bodies nested within the limit are served as upstream serves them (unknown fields dropped)', async () => {
    const name = 'deep-ok';
    const created = await api('POST', CM, undefined, {
      raw: `{"metadata":{"name":"${name}"},"data":{"k":"v"},"bogus":${nestedJson(500)}}`,
    });
    expect(created.status, created.text.slice(0, 300)).toBe(201);
    expect(created.body.bogus).toBeUndefined();
    const patches: [string, string][] = [
      ['application/merge-patch+json', `{"bogus":${nestedJson(500)}}`],
      ['application/strategic-merge-patch+json', `{"bogus":${nestedJson(500)}}`],
      ['application/json-patch+json', `[{"op":"add","path":"/bogus","value":${nestedJson(500)}}]`],
      [
        'application/apply-patch+yaml',
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\nbogus: ${'['.repeat(500)}${']'.repeat(500)}\n`,
      ],
    ];
    for (const [contentType, raw] of patches) {
      const r = await api('PATCH', `${CM}/${name}?fieldManager=test`, undefined, { raw, contentType });
      if (contentType === 'application/apply-patch+yaml') {
        // server-side apply refuses unknown fields, as upstream's does
        expect(r.status, r.text.slice(0, 300)).toBe(400);
        expect(r.body.message).toContain('.bogus: field not declared in schema');
        continue;
      }
      expect(r.status, `${contentType}: ${r.text.slice(0, 300)}`).toBe(200);
      expect(r.body.data).toEqual({ k: 'v' });
    }
  });

  it('a dockerconfigjson Secret whose JSON nests 100,000 deep → 422 naming the field, not 500', async () => {
    const deep = Buffer.from('['.repeat(100_000)).toString('base64');
    const r = await api('POST', '/api/v1/namespaces/default/secrets', {
      metadata: { name: 'deep-docker' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': deep },
    });
    expect(r.status, r.text.slice(0, 300)).toBe(422);
    expect(r.body.message).toContain('data[.dockerconfigjson]');
    expect(r.body.message).toContain('exceeded max depth');
  });
});

describe('leniencies where upstream is stricter', () => {
  it('Content-Type: text/plain on a create → 415, nothing stored', async () => {
    const r = await curl(CM, [
      '-X',
      'POST',
      '-H',
      'Content-Type: text/plain',
      '--data',
      '{"metadata":{"name":"plain-text"}}',
    ]);
    expect(r.status).toBe(415);
    expect(JSON.parse(r.body)).toMatchObject({
      reason: 'UnsupportedMediaType',
      message: expect.stringContaining(
        'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
      ),
    });
    expect((await api('GET', `${CM}/plain-text`)).status).toBe(404);
  });

  it('a fieldManager longer than 128 bytes, or not printable → 422 on its options kind', async () => {
    const long = await api('POST', `${CM}?fieldManager=${'m'.repeat(129)}`, {
      metadata: { name: 'fm-long' },
    });
    expect(long.status).toBe(422);
    expect(long.body.message).toBe(
      'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes',
    );
    expect(long.body.details.causes).toEqual([
      {
        reason: 'FieldValueTooLong',
        field: 'fieldManager',
        message: 'Too long: may not be more than 128 bytes',
      },
    ]);
    const bell = await api('PATCH', `${CM}/fm-long?fieldManager=a%07b`, undefined, {
      raw: '{}',
      contentType: 'application/merge-patch+json',
    });
    expect(bell.status).toBe(422);
    expect(bell.body.message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\u0007b": invalid character U+0007 at index 1',
    );
    const ok = await api('POST', `${CM}?fieldManager=${'m'.repeat(128)}`, {
      metadata: { name: 'fm-128' },
      data: { k: 'v' },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.metadata.managedFields[0].manager).toBe('m'.repeat(128));
  });

  it('a continue token that is not one the server made → 400 invalid continue token; real paging works', async () => {
    for (const ns of ['page-a', 'page-b']) {
      expect((await api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
      for (const n of ['one', 'two', 'three'])
        expect(
          (await api('POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: n } })).status,
        ).toBe(201);
    }
    const token = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const cases: [string, string][] = [
      [
        token({ v: 'meta.k8s.io/v1', start: 'one' }),
        'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
      ],
      [
        token({ v: 'meta.k8s.io/v1', rv: 5 }),
        'continue key is not valid: encoded start key empty (version meta.k8s.io/v1)',
      ],
      [
        token({ v: 'v9', rv: 5, start: 'one' }),
        'continue key is not valid: server does not recognize this encoded version v9',
      ],
      // out of the list it continues: another namespace's objects
      [
        token({ v: 'meta.k8s.io/v1', rv: 5, start: '../page-b/one' }),
        'continue key is not valid: ../page-b/one',
      ],
      ['junk!', 'continue key is not valid: illegal base64 data at input byte 4'],
      [
        token([1]),
        'continue key is not valid: json: cannot unmarshal array into Go value of type storage.continueToken',
      ],
    ];
    for (const [cont, message] of cases) {
      const r = await api(
        'GET',
        `/api/v1/namespaces/page-a/configmaps?limit=1&continue=${encodeURIComponent(cont)}`,
      );
      expect(r.status, cont).toBe(400);
      expect(r.body).toMatchObject({ reason: 'BadRequest', message: `invalid continue token: ${message}` });
    }
    const withRV = await api(
      'GET',
      `/api/v1/namespaces/page-a/configmaps?limit=1&resourceVersion=5&continue=${token({ v: 'meta.k8s.io/v1', rv: 5, start: 'one' })}`,
    );
    expect(withRV.status).toBe(400);
    expect(withRV.body.message).toBe('specifying resource version is not allowed when using continue');
    // kubectl pages with the tokens the server hands out
    const paged = await run(kubectlBin(), [
      '--kubeconfig',
      server.kubeconfig,
      'get',
      'configmaps',
      '-n',
      'page-a',
      '--chunk-size=1',
      '-o',
      'name',
    ]);
    expect(paged.code, paged.stderr).toBe(0);
    expect(paged.stdout.trim().split('\n').sort()).toEqual([
      'configmap/one',
      'configmap/three',
      'configmap/two',
    ]);
  });

  it('a watch with timeoutSeconds=-5 ends at once (an expired deadline) instead of hanging', async () => {
    const r = await curl(`${CM}?watch=1&timeoutSeconds=-5`);
    expect(r.status).toBe(200);
  });

  it('a malformed or repeated Host header → Go’s plain-text 400', async () => {
    const spaces = await curl('/api/v1/namespaces', ['-H', 'Host: a b c']);
    expect(spaces).toEqual({ status: 400, body: '400 Bad Request: malformed Host header' });
    // curl sends one Host header however many are given: two go over a socket of our own
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: server.port,
      ca: server.ca,
      servername: 'localhost',
    });
    const twice = await rawExchange(
      socket,
      `GET /api/v1/namespaces HTTP/1.1\r\nHost: a\r\nHost: b\r\nAuthorization: Bearer ${server.token}\r\n\r\n`,
    );
    expect(twice).toMatch(
      /^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\n400 Bad Request: too many Host headers$/,
    );
    expect((await curl('/api/v1/namespaces')).status).toBe(200);
  });
});

describe('the ingress gateway', () => {
  let ingress: ComponentProcess;
  let httpPort: number;

  beforeAll(async () => {
    ingress = startComponent(
      'ingress',
      [
        '--kubeconfig',
        server.kubeconfig,
        '--http',
        '127.0.3.1:0',
        '--https',
        '127.0.3.1:0',
        '--metrics-port',
        '0',
      ],
      { KUBEMU_LOG_LEVEL: 'info' },
    );
    const ready = await waitForLogLine<{ http: { port: number } }>(ingress, 'ingress gateway ready');
    httpPort = ready.http.port;
  }, 30_000);

  afterAll(async () => {
    await ingress?.stop();
  });

  it('a duplicate or invalid Host → 400, as nginx answers (it routed the first one: 404)', async () => {
    const status = async (...headers: string[]): Promise<string> => {
      const args = headers.flatMap((h) => ['-H', h]);
      const r = await run('curl', [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        ...args,
        `http://127.0.3.1:${httpPort}/`,
      ]);
      return r.stdout;
    };
    const twice = await rawExchange(
      netConnect({ host: '127.0.3.1', port: httpPort }),
      'GET / HTTP/1.1\r\nHost: shop.example\r\nHost: admin.example\r\n\r\n',
    );
    expect(twice).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(twice).toContain('<title>400 Bad Request</title>');
    expect(await status('Host: a b c')).toBe('400');
    expect(await status('Host: shop..example')).toBe('400');
    // an ordinary Host that no Ingress routes is still the default backend's 404
    expect(await status('Host: shop.example')).toBe('404');
  });
});

describe('the state database', () => {
  it('a zero-length state.db is refused at start, saying how to recover, instead of an empty cluster', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'kubemu-empty-db-'));
    try {
      writeFileSync(join(stateDir, 'state.db'), '');
      const failed = await startApiServer({ stateDir }).then(
        () => new Error('the apiserver started'),
        (e: Error) => e,
      );
      expect(failed.message).toMatch(/apiserver exited with 1/);
      expect(failed.message).toContain(
        `refusing to start on ${join(stateDir, 'state.db')}: the file is empty (0 bytes)`,
      );
      expect(failed.message).toContain('Restore state.db');
      expect(failed.message).toContain('to start over with an empty cluster, delete');
      expect(readFileSync(join(stateDir, 'state.db')).length).toBe(0);

      writeFileSync(join(stateDir, 'state.db'), 'not a database '.repeat(500));
      const corrupt = await startApiServer({ stateDir }).then(
        () => new Error('the apiserver started'),
        (e: Error) => e,
      );
      expect(corrupt.message).toContain('it cannot be read (SQLITE_NOTADB');
      expect(corrupt.message).toContain('Restore state.db');
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a write that fills the disk answers 500 naming SQLITE_FULL', async () => {
    // the apiserver runs in a mount namespace of its own whose state dir is a 4 MiB tmpfs; its files are read
    // through /proc/PID/root
    const stateDir = mkdtempSync(join(tmpdir(), 'kubemu-full-disk-'));
    const child = spawn(
      'unshare',
      [
        '-m',
        'sh',
        '-c',
        'mount -t tmpfs -o size=4m tmpfs "$0" && exec "$1" "$2" --state-dir "$0" --port 0',
        stateDir,
        process.execPath,
        join(DIST, 'cmd/apiserver.js'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KUBEMU_LOG_LEVEL: 'warn' } },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      const inside = (p: string): string => join(`/proc/${child.pid}/root`, stateDir, p);
      const info = await waitFor<{ url: string }>(
        'the apiserver on a small disk',
        () => {
          if (child.exitCode !== null) throw new Error(`apiserver exited: ${stderr}`);
          if (!existsSync(inside('apiserver.json'))) return Promise.resolve(undefined);
          return Promise.resolve(
            JSON.parse(readFileSync(inside('apiserver.json'), 'utf8')) as { url: string },
          );
        },
        20_000,
        50,
      );
      const full = apiClient({
        url: info.url,
        ca: readFileSync(inside('pki/ca.crt'), 'utf8'),
        token: readFileSync(inside('tokens.csv'), 'utf8')
          .split('\n')
          .find((l) => l.includes('kubemu-admin'))!
          .split(',')[0],
      });
      let last = await full('GET', `${CM}?limit=1`);
      for (let i = 0; i < 12; i++) {
        last = await full('POST', CM, {
          metadata: { name: `fill-${i}` },
          data: { blob: 'x'.repeat(900_000) },
        });
        if (last.status !== 201) break;
      }
      expect(last.status, last.text.slice(0, 300)).toBe(500);
      expect(last.body.message).toBe(
        'Internal error occurred: storage commit failed: SQLITE_FULL: database or disk is full',
      );
      // and it keeps serving reads
      expect((await full('GET', `${CM}/fill-0`)).status).toBe(200);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 60_000);
});
