// The network-namespace scenario of test/netns.test.ts, in plain JavaScript so that the test can run it as root and,
// through `runuser`, as an unprivileged user: prints one JSON object of what it observed on stdout.
// Usage: node test/netns/scenario.mjs DIST_DIR
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = process.argv[2];
const load = (m) => import(pathToFileURL(join(dist, 'netns', m)).href);
const { Sandbox } = await load('sandbox.js');
const { NodeNet } = await load('node-net.js');
const { PodNet } = await load('pod-net.js');
const { Publisher } = await load('publisher.js');
const { runCommand, isAlive } = await load('holder.js');

const overall = setTimeout(() => {
  process.stderr.write('scenario: gave up after 150 s\n');
  process.exit(3);
}, 150_000);

const SERVER =
  "const http=require('http'),os=require('os');const [host,port,name]=process.argv.slice(1);" +
  "http.createServer((q,s)=>s.end((name||os.hostname())+'\\n')).listen({host,port:+port},()=>console.log('listening'))";

const children = [];
const rootless = process.getuid() !== 0;
const results = { uid: process.getuid(), rootless };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts a server with `prefix` (an nsenter) and waits for its "listening" line. */
function serve(prefix, host, port, name = '') {
  const argv = [...prefix, process.execPath, '-e', SERVER, host, String(port), name];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.stdout.on('data', (c) => String(c).includes('listening') && resolve(child));
    child.on('exit', (code) => reject(new Error(`server ${host}:${port} exited ${code}: ${err}`)));
  });
}

/** What `curl` from inside `prefix` gets from `url`: the body, or "error: ..." */
async function get(prefix, url) {
  try {
    return (await runCommand([...prefix, 'curl', '-sS', '-g', '-m', '5', url])).trim();
  } catch (e) {
    return `error: ${e.message.split('\n').pop()}`;
  }
}

/** The network namespace of `pid` (its /proc link), or undefined when we cannot see it. */
function netnsOf(pid) {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/** PIDs of processes still in any of `namespaces` (links such as net:[4026532], mnt:[...]). */
function processesIn(namespaces) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    for (const kind of ['net', 'mnt', 'uts']) {
      try {
        if (namespaces.has(readlinkSync(`/proc/${entry}/ns/${kind}`))) found.push(Number(entry));
      } catch {
        // gone, or not ours to see
      }
    }
  }
  return [...new Set(found)];
}

async function waitUntil(what, check, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

const made = [];
const namespaces = new Set();
const remember = (pid) => {
  for (const kind of ['net', 'mnt', 'uts']) {
    try {
      namespaces.add(readlinkSync(`/proc/${pid}/ns/${kind}`));
    } catch {
      // not ours to see
    }
  }
};
try {
  const hostNetns = netnsOf(process.pid);
  // read-only look at the host's own network, to compare at the end: kubemu must never change it
  const hostNetwork = async () =>
    (await runCommand(['ip', '-o', 'route'])) +
    (await runCommand(['ip', '-o', 'link'])).replace(/^\d+: /gm, '');
  const hostBefore = await hostNetwork();
  const a = await Sandbox.create({ name: 'cluster-a', bridgeAddress: '127.0.1.254/24' });
  made.push(a);
  const aNodes = [];
  for (const n of [1, 2]) {
    aNodes.push(
      await NodeNet.create(a, { name: `node-${n}`, address: `127.0.1.${n}`, podCidr: `10.244.${n}.0/24` }),
    );
  }
  made.push(...aNodes);
  const pod = (node, id, hostname, ip) =>
    PodNet.create({
      id,
      hostname,
      ip,
      podCidr: node.options.podCidr,
      nodePrefix: node.prefix(),
      nodePid: node.holderPid,
      enterUser: rootless,
    });
  const webA = await pod(aNodes[0], 'uid-web-a', 'web-a', '10.244.1.2');
  const webB = await pod(aNodes[0], 'uid-web-b', 'web-b', '10.244.1.3');
  const webC = await pod(aNodes[1], 'uid-web-c', 'web-c', '10.244.2.2');
  made.push(webA, webB, webC);
  for (const h of [a, ...aNodes, webA, webB, webC]) remember(h.holderPid ?? h.pausePid);
  results.sandboxNetnsDiffersFromHost =
    netnsOf(a.holderPid) !== undefined && netnsOf(a.holderPid) !== hostNetns;

  // the same port in every pod: 0.0.0.0 in web-a and web-c, [::] in web-b; a node port and the control plane
  await Promise.all([
    serve(webA.prefix(), '0.0.0.0', 8080),
    serve(webB.prefix(), '::', 8080),
    serve(webC.prefix(), '0.0.0.0', 8080),
    serve(aNodes[1].prefix(), '127.0.1.2', 30080, 'node-2'),
    serve(a.prefix(), '127.0.1.254', 6443, 'control-plane'),
  ]);
  results.hostname = (await runCommand([...webA.prefix(), 'hostname'])).trim();
  results.nodeHostname = (await runCommand([...aNodes[1].prefix(), 'hostname'])).trim();
  results.podToPodSameNode = await get(webA.prefix(), 'http://10.244.1.3:8080/');
  results.podToPodOtherNode = await get(webA.prefix(), 'http://10.244.2.2:8080/');
  results.podToOwnLocalhost = await get(webA.prefix(), 'http://localhost:8080/');
  results.podToOwnIpv6Loopback = await get(webB.prefix(), 'http://[::1]:8080/');
  results.podToOtherNodeAddress = await get(webA.prefix(), 'http://127.0.1.2:30080/');
  results.podToControlPlane = await get(webC.prefix(), 'http://127.0.1.254:6443/');
  results.nodeToPod = await get(aNodes[0].prefix(), 'http://10.244.2.2:8080/');
  results.podBindsPort80 = await serve(webC.prefix(), '0.0.0.0', 80, 'web-c:80').then(
    () => get(webA.prefix(), 'http://10.244.2.2/'),
    (e) => `error: ${e.message}`,
  );
  // host publishing: host 127.0.0.1:<free> → node-2's 127.0.1.2:30080 and → web-c's pod IP
  const publisher = await Publisher.start({ sandboxPrefix: a.prefix() });
  const toNode = await publisher.publish({ host: '127.0.0.1', port: 0 }, { host: '127.0.1.2', port: 30080 });
  const toPod = await publisher.publish({ host: '127.0.0.1', port: 0 }, { host: '10.244.2.2', port: 8080 });
  results.hostToPublishedNodePort = await get([], `http://127.0.0.1:${toNode.port}/`);
  results.hostToPublishedPod = await get([], `http://127.0.0.1:${toPod.port}/`);
  await publisher.unpublish(toNode);
  results.hostAfterUnpublish = (await get([], `http://127.0.0.1:${toNode.port}/`)).startsWith('error')
    ? 'refused'
    : 'still answers';
  results.publishPrivilegedPort = await publisher
    .publish({ host: '127.0.0.1', port: 1 }, { host: '127.0.1.2', port: 30080 })
    .then(
      () => 'published',
      (e) => (e.message.includes('below 1024') ? 'refused: below 1024' : `refused: ${e.message}`),
    );
  await publisher.close();
  results.forwarderGoneAfterClose = (await get([], `http://127.0.0.1:${toPod.port}/`)).startsWith('error');

  // a second cluster with the very same addresses, side by side
  const b = await Sandbox.create({ name: 'cluster-b', bridgeAddress: '127.0.1.254/24' });
  made.push(b);
  const bNode = await NodeNet.create(b, { name: 'node-1', address: '127.0.1.1', podCidr: '10.244.1.0/24' });
  made.push(bNode);
  const bWeb = await PodNet.create({
    id: 'uid-web-a',
    hostname: 'web-a',
    ip: '10.244.1.2',
    podCidr: '10.244.1.0/24',
    nodePrefix: bNode.prefix(),
    nodePid: bNode.holderPid,
    enterUser: rootless,
  });
  made.push(bWeb);
  for (const h of [b, bNode, bWeb]) remember(h.holderPid ?? h.pausePid);
  await serve(bWeb.prefix(), '0.0.0.0', 8080, 'cluster-b web-a');
  results.secondClusterSameIp = await get(bNode.prefix(), 'http://10.244.1.2:8080/');
  results.firstClusterSameIp = await get(aNodes[0].prefix(), 'http://10.244.1.2:8080/');

  results.hostNetworkUnchanged = (await hostNetwork()) === hostBefore;

  // a kubelet in node-1 makes a pod's network, then is SIGKILLed: the pause, the netns and the veth go with it
  const kubeletScript =
    `const { PodNet } = await import(${JSON.stringify(pathToFileURL(join(dist, 'netns', 'pod-net.js')).href)});` +
    "const p = await PodNet.create({ id: 'uid-orphan', hostname: 'orphan', ip: '10.244.1.9', podCidr: '10.244.1.0/24', nodePrefix: [] });" +
    "const { spawn } = await import('node:child_process');" +
    `const c = spawn('setpriv', ['--pdeathsig', 'KILL', '--', ...p.prefix(), process.execPath, '-e', ${JSON.stringify(SERVER)}, '0.0.0.0', '8080'], { stdio: ['ignore', 'pipe', 'inherit'] });` +
    "c.stdout.once('data', () => console.log(JSON.stringify({ pause: p.pausePid, container: c.pid })));" +
    'setInterval(() => {}, 1000);';
  const kubeletArgv = [...aNodes[0].prefix(), process.execPath, '--input-type=module', '-e', kubeletScript];
  const kubelet = spawn(kubeletArgv[0], kubeletArgv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(kubelet);
  let kubeletErr = '';
  kubelet.stderr.on('data', (c) => (kubeletErr += c));
  const { pause, container } = await new Promise((resolve, reject) => {
    kubelet.stdout.on('data', (c) => resolve(JSON.parse(String(c))));
    kubelet.on('exit', (code) => reject(new Error(`kubelet exited ${code}: ${kubeletErr}`)));
  });
  const vethsBefore = await runCommand([...aNodes[0].prefix(), 'ip', '-o', 'link', 'show', 'master', 'cni0']);
  results.kubeletPodAnswers = await get(webA.prefix(), 'http://10.244.1.9:8080/');
  kubelet.kill('SIGKILL');
  results.pauseGoneAfterKubeletSigkill = await waitUntil('pause gone', () => !isAlive(pause));
  results.containerGoneAfterKubeletSigkill = await waitUntil('container gone', () => !isAlive(container));
  results.vethGoneAfterKubeletSigkill = await waitUntil('veth gone', async () => {
    const now = await runCommand([...aNodes[0].prefix(), 'ip', '-o', 'link', 'show', 'master', 'cni0']);
    return now.split('\n').filter(Boolean).length === vethsBefore.split('\n').filter(Boolean).length - 1;
  });
} catch (e) {
  results.error = e.stack ?? String(e);
} finally {
  for (const child of children) child.kill('SIGKILL');
  await sleep(100);
  for (const h of made.reverse()) await h.destroy().catch((e) => (results.destroyError = e.message));
  results.holdersGone = made.every((h) => !h.alive);
  const left = await waitUntil('namespaces empty', () => processesIn(namespaces).length === 0, 5_000);
  results.leftBehind = left ? [] : processesIn(namespaces);
  results.namespacesWatched = namespaces.size;
  clearTimeout(overall);
  process.stdout.write(JSON.stringify(results) + '\n');
}
