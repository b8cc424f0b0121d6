// Keyed DOM rendering of the dashboard's view model (see src/dashboard/model.ts): an element per key, kept across
// frames and rewritten only when its own data changed, so a frame with 1,000 pods touches only the pods that moved.

const SVG = 'http://www.w3.org/2000/svg';

/** An element with a class and optional text. */
export function h(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Run `fill` only when `sig` differs from the last one this element was drawn with. */
function patch(el, sig, fill) {
  if (el._sig === sig) return;
  el._sig = sig;
  fill();
}

/** Make `parent`'s children exactly one element per item, in order, reusing the element of each key. */
export function reconcile(parent, items, key, create, update) {
  const keyed = parent._keyed ?? (parent._keyed = new Map());
  const seen = new Set();
  let cursor = parent.firstChild;
  for (const item of items) {
    const k = key(item);
    seen.add(k);
    let el = keyed.get(k);
    if (!el) {
      el = create(item);
      keyed.set(k, el);
    }
    update(el, item);
    if (el === cursor) cursor = cursor.nextSibling;
    else parent.insertBefore(el, cursor);
  }
  for (const [k, el] of keyed) {
    if (!seen.has(k)) {
      el.remove();
      keyed.delete(k);
    }
  }
}

/** A stable hue per image tag, so v1 and v2 pods differ at a glance during a rollout. */
export function tagHue(tag) {
  let hash = 0;
  for (const ch of tag) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  return ((hash % 360) + 360) % 360;
}

const BAD = /Err|BackOff|Error|OOMKilled|Failed|Invalid|Evicted|Unknown/;

export function podHealth(pod) {
  if (pod.terminating) return 'terminating';
  if (BAD.test(pod.status)) return 'bad';
  if (pod.phase === 'Succeeded') return 'done';
  if (pod.phase === 'Running') return pod.allReady ? 'ok' : 'unready';
  return 'pending';
}

function createPod() {
  const el = h('button', 'pod');
  el.type = 'button';
  el.append(h('span', 'pod-name'), h('span', 'pod-tag'), h('span', 'pod-meta'));
  return el;
}

function updatePod(el, pod) {
  patch(
    el,
    `${pod.name}|${pod.node}|${pod.status}|${pod.ready}|${pod.restarts}|${pod.tag}|${pod.owner}|${pod.terminating}`,
    () => {
      el.dataset.pod = `${pod.namespace}/${pod.name}`;
      el.dataset.node = pod.node;
      el.dataset.tag = pod.tag;
      el.dataset.status = pod.status;
      el.dataset.health = podHealth(pod);
      el.style.setProperty('--tag-hue', String(tagHue(pod.tag)));
      el.title = `${pod.namespace}/${pod.name}\n${pod.status} · ready ${pod.ready} · restarts ${pod.restarts}\n${pod.image}\nowner ${pod.owner || '-'}`;
      // Deployment pods: the template hash says little, the last suffix tells pods apart
      el.children[0].textContent = pod.name.replace(/^(.+)-[a-z0-9]{6,10}-([a-z0-9]{5})$/, '$1-…$2');
      el.children[1].textContent = pod.tag;
      el.children[2].textContent = `${pod.status} ${pod.ready}${pod.restarts ? ` ↻${pod.restarts}` : ''}`;
    },
  );
}

const podKey = (p) => p.key;

export function renderPods(container, pods) {
  reconcile(container, pods, podKey, createPod, updatePod);
}

function fmtCpu(cores) {
  return cores < 1 ? `${Math.round(cores * 1000)}m` : `${+cores.toFixed(2)}`;
}

function fmtBytes(b) {
  const units = ['B', 'Ki', 'Mi', 'Gi', 'Ti'];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) {
    b /= 1024;
    i++;
  }
  return `${+b.toFixed(1)}${units[i]}`;
}

function bar(label) {
  const el = h('div', 'bar');
  el.append(h('span', 'bar-label', label), h('span', 'bar-track'), h('span', 'bar-text'));
  el.children[1].append(h('span', 'bar-fill'));
  return el;
}

function setBar(el, used, capacity, fmt) {
  const known = used !== undefined && capacity > 0;
  const pct = known ? Math.min(100, Math.round((used / capacity) * 100)) : 0;
  el.dataset.known = String(known);
  el.children[1].firstChild.style.width = `${pct}%`;
  el.children[2].textContent = known ? `${fmt(used)} / ${fmt(capacity)} (${pct}%)` : `— / ${fmt(capacity)}`;
}

function createNode() {
  const el = h('div', 'node');
  const head = h('div', 'node-head');
  head.append(h('span', 'node-name'), h('span', 'badge node-ready'), h('span', 'node-ip'));
  el.append(head, bar('cpu'), bar('mem'), h('div', 'node-podcount'), h('div', 'pods'));
  return el;
}

function updateNode(el, node) {
  const u = node.cpu.usage;
  const m = node.memory.usage;
  patch(
    el,
    `${node.name}|${node.ready}|${node.unschedulable}|${node.internalIP}|${node.cpu.capacity}|${u}|${node.memory.capacity}|${m}|${node.pods.length}|${node.maxPods}`,
    () => {
      el.dataset.node = node.name;
      el.dataset.ready = node.ready;
      const head = el.children[0];
      head.children[0].textContent = node.name;
      head.children[1].textContent =
        node.ready === 'True' ? 'Ready' : node.ready === 'False' ? 'NotReady' : 'Unknown';
      if (node.unschedulable) head.children[1].textContent += ',SchedulingDisabled';
      head.children[2].textContent = node.internalIP;
      setBar(el.children[1], u, node.cpu.capacity, fmtCpu);
      setBar(el.children[2], m, node.memory.capacity, fmtBytes);
      el.children[3].textContent = `${node.pods.length}${node.maxPods ? ` / ${node.maxPods}` : ''} pods`;
    },
  );
  renderPods(el.children[4], node.pods);
}

/** A row of `cells` class names; `fill` writes them when the row's data changed. */
function rowMaker(className, cells) {
  return () => {
    const el = h('div', `row ${className}`);
    for (const c of cells) el.append(h('div', c));
    return el;
  };
}

function sparkline(values, max) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 120 30');
  svg.setAttribute('class', 'spark');
  if (values.length === 0) return svg;
  const top = Math.max(max, ...values, 1);
  const step = values.length > 1 ? 120 / (values.length - 1) : 0;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(28 - (v / top) * 26).toFixed(1)}`);
  if (values.length === 1) points.push(`120,${points[0].split(',')[1]}`);
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', points.join(' '));
  svg.append(line);
  return svg;
}

const ns = (o) => (o.namespace && o.namespace !== 'default' ? `${o.namespace}/` : '');

function updateDeployment(el, d) {
  const sig = `${d.name}|${d.desired}|${d.updated}|${d.ready}|${d.available}|${d.rolling}|${JSON.stringify(d.revisions)}`;
  patch(el, sig, () => {
    el.dataset.deployment = `${d.namespace}/${d.name}`;
    el.dataset.rolling = String(d.rolling);
    const [name, ready, progress, revs] = el.children;
    name.textContent = `${ns(d)}${d.name}`;
    ready.textContent = `${d.ready}/${d.desired} ready · ${d.updated} up-to-date · ${d.available} available`;
    progress.replaceChildren(h('span', 'bar-fill'));
    progress.firstChild.style.width = `${d.desired ? Math.min(100, Math.round((d.updated / d.desired) * 100)) : 100}%`;
    revs.replaceChildren(
      ...d.revisions.map((r) => {
        const s = h('span', 'rev', `${r.tag} ×${r.replicas}`);
        s.style.setProperty('--tag-hue', String(tagHue(r.tag)));
        return s;
      }),
    );
  });
}

function updateService(el, s) {
  patch(
    el,
    `${s.name}|${s.type}|${s.clusterIP}|${s.externalIP}|${s.ports}|${s.endpoints.join(',')}|${s.notReady}`,
    () => {
      el.dataset.service = `${s.namespace}/${s.name}`;
      const [name, addr, eps] = el.children;
      name.textContent = `${ns(s)}${s.name} `;
      name.append(h('span', 'badge', s.type));
      addr.textContent = `${s.clusterIP} ${s.ports}${s.externalIP ? ` · external ${s.externalIP}` : ''}`;
      const shown = s.endpoints.slice(0, 8).join(' ');
      eps.textContent = `endpoints: ${s.endpoints.length ? shown : '<none>'}${s.endpoints.length > 8 ? ` +${s.endpoints.length - 8}` : ''}${s.notReady ? ` (${s.notReady} not ready)` : ''}`;
    },
  );
}

function updateIngress(el, i) {
  patch(el, JSON.stringify(i), () => {
    el.dataset.ingress = `${i.namespace}/${i.name}`;
    const [name, rules] = el.children;
    name.textContent = `${ns(i)}${i.name}${i.address ? ` · ${i.address}` : ''}`;
    rules.replaceChildren(...i.rules.map((r) => h('div', 'rule', `${r.host}${r.path} → ${r.backend}`)));
  });
}

function updateHpa(el, a) {
  patch(el, JSON.stringify(a), () => {
    el.dataset.hpa = `${a.namespace}/${a.name}`;
    const [name, numbers, chart] = el.children;
    name.textContent = `${ns(a)}${a.name} → ${a.target}`;
    const util =
      a.targetUtilization !== undefined ? `cpu ${a.utilization ?? '?'}% / ${a.targetUtilization}%` : '';
    numbers.textContent = `${util} · replicas ${a.current} → ${a.desired} (${a.min}–${a.max})`;
    chart.replaceChildren(sparkline(a.history, a.max));
  });
}

function updateEvent(el, e) {
  patch(el, `${e.time}|${e.count}|${e.message}`, () => {
    el.dataset.type = e.type;
    const [time, reason, obj, msg] = el.children;
    time.textContent = e.time ? new Date(e.time).toLocaleTimeString() : '';
    reason.textContent = `${e.reason}${e.count > 1 ? ` ×${e.count}` : ''}`;
    obj.textContent = e.object;
    msg.textContent = e.message;
  });
}

/** The control plane as rows: etcd members, apiservers (their identity Leases), then each leader Lease. */
function controlPlaneRows(cp) {
  return [
    ...cp.etcd.map((m) => ({
      key: `etcd ${m.key}`,
      role: 'etcd',
      name: m.endpoint,
      state: m.state,
      note: m.raftTerm ? `term ${m.raftTerm}` : '',
    })),
    ...cp.apiServers.map((a) => ({
      key: `apiserver ${a.key}`,
      role: 'apiserver',
      name: a.host,
      state: a.live ? 'renewing' : 'silent',
      note: `renewed ${a.renewedAgoS}s ago`,
    })),
    ...cp.leaders.map((l) => ({
      key: `lease ${l.key}`,
      role: `lease ${l.lease}`,
      name: l.holder || 'no holder',
      state: l.live ? 'leader' : 'expired',
      note: '',
    })),
  ];
}

function updateControlPlaneRow(el, r) {
  patch(el, JSON.stringify(r), () => {
    el.dataset.role = r.role;
    el.dataset.state = r.state;
    const [role, name, state] = el.children;
    role.textContent = r.role;
    name.textContent = r.name;
    state.textContent = `${r.state}${r.note ? ` · ${r.note}` : ''}`;
  });
}

const byKey = (x) => x.key;
const makers = {
  controlPlane: rowMaker('cp', ['role', 'name', 'state']),
  deployment: rowMaker('deployment', ['name', 'ready', 'progress', 'revs']),
  service: rowMaker('service', ['name', 'addr', 'eps']),
  ingress: rowMaker('ingress', ['name', 'rules']),
  hpa: rowMaker('hpa', ['name', 'numbers', 'chart']),
  event: rowMaker('event', ['time', 'reason', 'obj', 'msg']),
};

function list(container, items, make, update, empty) {
  reconcile(container, items, byKey, make, update);
  container.dataset.empty = items.length ? '' : empty;
}

/** Draw the whole view into the page's containers (see index.html). */
export function render(view, $) {
  reconcile($.nodes, view.nodes, (n) => n.name, createNode, updateNode);
  $.unscheduledBox.hidden = view.unscheduled.length === 0;
  renderPods($.unscheduled, view.unscheduled);
  list(
    $.controlPlane,
    controlPlaneRows(view.controlPlane),
    makers.controlPlane,
    updateControlPlaneRow,
    'none',
  );
  list($.deployments, view.deployments, makers.deployment, updateDeployment, 'none');
  list($.services, view.services, makers.service, updateService, 'none');
  list($.ingresses, view.ingresses, makers.ingress, updateIngress, 'none');
  list($.hpas, view.hpas, makers.hpa, updateHpa, 'none');
  list($.events, view.events, makers.event, updateEvent, 'none yet');
  const c = view.counts;
  const summary = `${c.readyNodes}/${c.nodes} nodes ready · ${c.runningPods}/${c.pods} pods running`;
  if ($.summary.textContent !== summary) $.summary.textContent = summary;
}
