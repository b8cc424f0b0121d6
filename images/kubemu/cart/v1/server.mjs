// kubemu/cart: an in-memory shopping-cart REST service; BURN_MS (or ?burn=ms) burns CPU per request so load shows as CPU use.
import http from 'node:http';
import os from 'node:os';

const host = process.env.POD_IP ?? process.env.HOST ?? '0.0.0.0';
const port = Number(process.env.PORT ?? 8080);
const pod = process.env.POD_NAME ?? process.env.HOSTNAME ?? os.hostname();
const defaultBurnMs = Number(process.env.BURN_MS ?? 0);
const carts = new Map(); // user -> Map(itemId -> { id, name, quantity })

// Burns CPU time, not wall time, so a busy machine still sees the full load as CPU utilisation.
function burn(ms) {
  const start = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(i + x);
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return x;
  }
}

function send(res, code, body) {
  res.writeHead(code, { 'content-type': 'application/json', 'x-pod': pod });
  res.end(JSON.stringify(body) + '\n');
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text) return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

const ITEM_FIELDS = ['id', 'name', 'quantity'];
const ITEM_EXAMPLE = '{"id": "apple", "name": "Apple", "quantity": 2} (name and quantity are optional)';

// What is wrong with a POSTed item, so a client sending other field names (sku, qty) hears why, not a silent default.
function itemProblem(item) {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'body must be a JSON object';
  const unknown = Object.keys(item).filter((k) => !ITEM_FIELDS.includes(k));
  if (unknown.length > 0)
    return `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`;
  if (item.id !== undefined && typeof item.id !== 'string' && typeof item.id !== 'number')
    return '"id" must be a string';
  if (item.quantity !== undefined && !(Number.isInteger(item.quantity) && item.quantity > 0))
    return '"quantity" must be a positive integer';
  return undefined;
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const burnMs = Number(url.searchParams.get('burn') ?? defaultBurnMs);
  if (burnMs > 0) burn(burnMs);
  if (url.pathname === '/healthz') return send(res, 200, { status: 'ok', pod });
  const m = /^\/cart\/([^/]+)\/items(?:\/([^/]+))?\/?$/.exec(url.pathname);
  if (!m) return send(res, 404, { error: 'not found', path: url.pathname });
  const user = decodeURIComponent(m[1]);
  const itemId = m[2] && decodeURIComponent(m[2]);
  const cart = carts.get(user) ?? new Map();
  switch (req.method) {
    case 'GET':
      return send(res, 200, { user, items: [...cart.values()], pod });
    case 'POST': {
      let item;
      try {
        item = await readJson(req);
      } catch {
        return send(res, 400, { error: 'body must be JSON' });
      }
      const problem = itemProblem(item);
      if (problem) return send(res, 400, { error: `${problem}; an item is ${ITEM_EXAMPLE}` });
      const id = String(item.id ?? itemId ?? item.name ?? '');
      if (!id) return send(res, 400, { error: `item needs an id or a name; an item is ${ITEM_EXAMPLE}` });
      const prev = cart.get(id);
      const quantity = (item.quantity ?? 1) + (prev?.quantity ?? 0);
      cart.set(id, { id, name: item.name ?? prev?.name ?? id, quantity });
      carts.set(user, cart);
      return send(res, 201, { user, items: [...cart.values()], pod });
    }
    case 'DELETE':
      if (itemId) cart.delete(itemId);
      else cart.clear();
      return send(res, 200, { user, items: [...cart.values()], pod });
    default:
      return send(res, 405, { error: 'method not allowed' });
  }
});

server.listen(port, host, () => console.log(`cart listening on ${host}:${port}`));
process.on('SIGTERM', () => {
  console.log('SIGTERM received, shutting down');
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
