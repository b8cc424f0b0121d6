// The dashboard page: takes the token, follows the cluster over one watch stream from the apiserver, folds the
// events into the shared model (model.js) and draws at most once per animation frame.
import {
  WATCHED,
  WATCH_STREAM_PATH,
  NODE_METRICS_PATH,
  createState,
  applyEvent,
  replaceAll,
  setNodeMetrics,
  buildView,
} from './model.js';
import { render, h } from './render.js';

const TOKEN_KEY = 'kubemu.dashboard.token';
const $ = (id) => document.getElementById(id);
const els = {
  nodes: $('nodes'),
  unscheduled: $('unscheduled'),
  unscheduledBox: $('unscheduled-box'),
  controlPlane: $('control-plane'),
  deployments: $('deployments'),
  services: $('services'),
  ingresses: $('ingresses'),
  hpas: $('hpas'),
  events: $('events'),
  summary: $('summary'),
};

class AuthError extends Error {}

let token = takeToken();
let state = createState();
let session; // AbortController of the running streams
let frame = 0;
const failing = new Set();
const synced = new Set();

/** The token from `#token=...` (then dropped from the address bar), else the one this tab already had. */
function takeToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    const t = decodeURIComponent(m[1]);
    sessionStorage.setItem(TOKEN_KEY, t);
    history.replaceState(null, '', location.pathname + location.search);
    return t;
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

function schedule() {
  if (!frame) frame = requestAnimationFrame(flush);
}

function flush() {
  frame = 0;
  render(buildView(state), els);
  if (detail.pod) {
    showDetailFields();
    showContainerPicker();
  }
}

function setConn() {
  const c = $('conn');
  const all = Object.keys(WATCHED).length;
  const [s, text] = failing.size
    ? ['error', `reconnecting (${[...failing].join(', ')})`]
    : synced.size < all
      ? ['connecting', `loading ${synced.size}/${all}`]
      : ['live', 'live'];
  c.dataset.state = s;
  c.textContent = text;
  document.body.dataset.synced = String(synced.size === all);
}

/** Without a token the request goes as is: behind `kubemu dashboard` the local proxy adds the credentials. */
async function api(path, signal) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, { signal, headers });
  if (res.status === 401) throw new AuthError(token ? 'the token was not accepted' : '');
  // no token: the apiserver took the browser for system:anonymous, whom RBAC allows nothing here
  if (res.status === 403 && !token) throw new AuthError('');
  return res;
}

/** The lines of a chunked body, as they arrive. */
async function* lines(res) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim()) yield line;
      }
    }
    if (buf.trim()) yield buf;
  } finally {
    reader.cancel().catch(() => {});
  }
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** The cluster as one stream: a SYNC (full list) per kind, then its watch events; reconnect with backoff. */
async function follow(signal) {
  let delay = 500;
  while (!signal.aborted) {
    try {
      const res = await api(WATCH_STREAM_PATH, signal);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      for await (const line of lines(res)) {
        const ev = JSON.parse(line);
        if (ev.type === 'SYNC') {
          replaceAll(state, ev.kind, ev.items);
          synced.add(ev.kind);
          failing.delete(ev.kind);
          setConn();
          schedule();
          delay = 500;
        } else if (ev.type === 'STATUS') {
          // the etcd members (etcd storage only): not an object kind, the whole list each time
          state.etcd = ev.members;
          schedule();
        } else if (ev.type === 'ERROR') {
          failing.add(ev.kind);
          setConn();
        } else if (applyEvent(state, ev.kind, ev)) schedule();
      }
      throw new Error('stream ended');
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof AuthError) return showLogin(e.message);
      failing.add('stream');
      setConn();
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 10_000);
      failing.delete('stream');
    }
  }
}

/** metrics.k8s.io cannot be watched: list it while it is served, look again now and then while it is not. */
async function followMetrics(signal) {
  while (!signal.aborted) {
    let next = 30_000;
    try {
      const res = await api(NODE_METRICS_PATH, signal);
      if (res.ok) {
        setNodeMetrics(state, (await res.json()).items ?? []);
        schedule();
        next = 5_000;
      }
    } catch (e) {
      if (e instanceof AuthError || signal.aborted) return;
    }
    await sleep(next, signal);
  }
}

function start() {
  session?.abort();
  session = new AbortController();
  state = createState();
  synced.clear();
  failing.clear();
  $('login').hidden = true;
  $('main').hidden = false;
  setConn();
  void follow(session.signal);
  void followMetrics(session.signal);
}

function showLogin(message) {
  session?.abort();
  closeDetail();
  $('main').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message ?? '';
  $('conn').dataset.state = 'error';
  $('conn').textContent = 'not signed in';
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token').value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  start();
});

// ---------- pod details and log stream ----------

const detail = { pod: undefined, container: undefined, logAbort: undefined };

function fieldRows(pod) {
  const p = state.objects.pods.get(pod);
  if (!p) return [['status', 'deleted']];
  const cs = p.status?.containerStatuses ?? [];
  return [
    ['namespace', p.metadata?.namespace],
    ['node', p.spec?.nodeName ?? '<none>'],
    ['phase', p.status?.phase],
    ['pod IP', p.status?.podIP ?? ''],
    ['owner', (p.metadata?.ownerReferences ?? []).map((r) => `${r.kind}/${r.name}`).join(', ')],
    ['created', p.metadata?.creationTimestamp],
    ...(p.metadata?.deletionTimestamp ? [['deleting since', p.metadata.deletionTimestamp]] : []),
    [
      'labels',
      Object.entries(p.metadata?.labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    ],
    ...(p.spec?.containers ?? []).map((c) => {
      const s = cs.find((x) => x.name === c.name);
      const st = s?.state ? Object.keys(s.state)[0] : 'unknown';
      const why = s?.state?.waiting?.reason ?? s?.state?.terminated?.reason ?? '';
      return [
        `container ${c.name}`,
        `${c.image} · ${st}${why ? ` (${why})` : ''} · ready ${!!s?.ready} · restarts ${s?.restartCount ?? 0}`,
      ];
    }),
    ...(p.status?.conditions ?? []).map((c) => [
      `condition ${c.type}`,
      `${c.status}${c.reason ? ` (${c.reason})` : ''}`,
    ]),
  ];
}

function showDetailFields() {
  const rows = fieldRows(detail.pod);
  const sig = JSON.stringify(rows);
  const dl = $('detail-fields');
  if (dl._sig === sig) return;
  dl._sig = sig;
  dl.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', '', k), h('dd', '', v ?? '')]));
}

/** kubectl's annotation naming the container `kubectl logs` and `exec` pick when none is given. */
const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

/** The pod's containers for the log picker: init containers first (they run first), then the app's. */
function containerChoices(p) {
  return [
    ...(p?.spec?.initContainers ?? []).map((c) => ({ name: c.name, label: `${c.name} (init)` })),
    ...(p?.spec?.containers ?? []).map((c) => ({ name: c.name, label: c.name })),
  ];
}

/** Like kubectl logs: the annotated default container when the pod has it, else the first container. */
function defaultContainer(p) {
  const named = p?.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (named && containerChoices(p).some((c) => c.name === named)) return named;
  return p?.spec?.containers?.[0]?.name;
}

/** Keeps the picker's options in step with the pod (containers never change, but the pod may arrive late). */
function showContainerPicker() {
  const p = state.objects.pods.get(detail.pod);
  const choices = containerChoices(p);
  const select = $('log-container');
  const sig = JSON.stringify(choices);
  if (select._sig !== sig) {
    select._sig = sig;
    select.replaceChildren(...choices.map((c) => Object.assign(h('option', '', c.label), { value: c.name })));
  }
  select.hidden = choices.length === 0;
  if (detail.container === undefined && choices.length > 0) {
    detail.container = defaultContainer(p);
    restartLog();
  }
  if (detail.container !== undefined) select.value = detail.container;
}

function restartLog() {
  detail.logAbort?.abort();
  detail.logAbort = new AbortController();
  void streamLog(detail.pod, detail.container, detail.logAbort.signal);
}

async function streamLog(key, container, signal) {
  const [ns, name] = key.split('/');
  const pre = $('log');
  const stateEl = $('log-state');
  pre.textContent = '';
  stateEl.textContent = 'connecting';
  try {
    const query = new URLSearchParams({ follow: 'true', tailLines: '500' });
    if (container) query.set('container', container);
    const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}/log?${query}`;
    const res = await api(path, signal);
    if (!res.ok) {
      const status = await res.json().catch(() => ({}));
      stateEl.textContent = status.message ?? `HTTP ${res.status}`;
      return;
    }
    stateEl.textContent = 'following';
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.append(value);
      // keep the page small on chatty containers
      if (pre.textContent.length > 256 * 1024) pre.textContent = pre.textContent.slice(-128 * 1024);
      if (atBottom) pre.scrollTop = pre.scrollHeight;
    }
    stateEl.textContent = 'ended';
  } catch (e) {
    if (!signal.aborted) stateEl.textContent = e instanceof Error ? e.message : String(e);
  }
}

function openDetail(key) {
  closeDetail();
  detail.pod = key;
  detail.container = undefined;
  $('detail-title').textContent = key;
  $('detail').hidden = false;
  $('detail').dataset.pod = key;
  $('detail-fields')._sig = undefined;
  $('log-container')._sig = undefined;
  $('log').textContent = '';
  $('log-state').textContent = '';
  showDetailFields();
  showContainerPicker();
}

function closeDetail() {
  detail.logAbort?.abort();
  detail.pod = undefined;
  detail.container = undefined;
  $('detail').hidden = true;
}

$('log-container').addEventListener('change', (e) => {
  detail.container = e.target.value;
  restartLog();
});
$('detail-close').addEventListener('click', closeDetail);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') closeDetail();
});
// one listener for every pod, present and future
document.addEventListener('click', (e) => {
  const pod = e.target instanceof Element ? e.target.closest('.pod') : null;
  if (pod?.dataset.pod) openDetail(pod.dataset.pod);
});

// with no token, try anyway: `kubemu dashboard` serves the page through a proxy that holds the credentials
start();
