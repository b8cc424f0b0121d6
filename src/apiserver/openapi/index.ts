// The apiserver's OpenAPI endpoints: /openapi/v3 (index), /openapi/v3/<api/v1|apis/g/v> and /openapi/v2, generated
// once from definitions.json and the resource table. kubectl reads v3 for explain, for fieldValidation support
// (apply sends fieldValidation=Strict when the PATCH operation lists it) and for strategic-merge-patch keys.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, type ApiError } from '../../api/errors.js';
import { pathItems, servedGroupVersionPaths } from './paths.js';
import { encodeV2Document, V2_PROTOBUF_CONTENT_TYPE } from './protobuf-v2.js';
import { renderV2, renderV3 } from './render.js';
import { servedCustomResources } from '../customresources/served.js';

export { componentNames, packageDir } from './names.js';
export { components, GVK_EXTENSION, type OpenApiSchema, type GroupVersionKind } from './schemas.js';

interface Rendered {
  document: object;
  body: Buffer;
  /** upstream's: the upper-case hex SHA-512 of the served bytes, also the `?hash=` of the v3 index */
  hash: string;
}

function rendered(document: object): Rendered {
  const body = Buffer.from(JSON.stringify(document));
  return { document, body, hash: createHash('sha512').update(body).digest('hex').toUpperCase() };
}

const v3Cache = new Map<string, Rendered>();
let v2Cache: Rendered | undefined;
let v2ProtobufCache: Rendered | undefined;
/** the custom resources' generation the caches were rendered at: a CRD change renders again */
let renderedAt = -1;
function fresh(): void {
  const generation = servedCustomResources.generation;
  if (generation === renderedAt) return;
  renderedAt = generation;
  v3Cache.clear();
  v2Cache = undefined;
  v2ProtobufCache = undefined;
}

function v3Rendered(gvPath: string): Rendered | undefined {
  fresh();
  const hit = v3Cache.get(gvPath);
  if (hit) return hit;
  if (!servedGroupVersionPaths().includes(gvPath)) return undefined;
  const r = rendered(renderV3(pathItems(gvPath)));
  v3Cache.set(gvPath, r);
  return r;
}

function v2Rendered(): Rendered {
  fresh();
  v2Cache ??= rendered(renderV2(pathItems()));
  return v2Cache;
}

/** GET /openapi/v3: one entry per served group-version, its URL pinned to the document's hash */
export function openapiV3Index(): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gvPath of servedGroupVersionPaths()) {
    paths[gvPath] = { serverRelativeURL: `/openapi/v3/${gvPath}?hash=${v3Rendered(gvPath)!.hash}` };
  }
  return { paths };
}

/** GET /openapi/v3/<gvPath> (`api/v1`, `apis/apps/v1`); undefined for a group-version kubemu does not serve */
export function openapiV3Document(gvPath: string): object | undefined {
  return v3Rendered(gvPath.replace(/^\/+|\/+$/g, ''))?.document;
}

function v2ProtobufRendered(): Rendered {
  fresh();
  if (!v2ProtobufCache) {
    const body = encodeV2Document(v2Rendered().document as Record<string, unknown>);
    v2ProtobufCache = {
      document: v2Rendered().document,
      body,
      hash: createHash('sha512').update(body).digest('hex').toUpperCase(),
    };
  }
  return v2ProtobufCache;
}

/** GET /openapi/v2, as JSON */
export function openapiV2Document(): object {
  return v2Rendered().document;
}

/** GET /openapi/v2 with Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf (client-go, kubectl) */
export function openapiV2Protobuf(): Buffer {
  return v2ProtobufRendered().body;
}

/** client-go asks for exactly this; upstream also answers the older `@v2.0+protobuf` spelling the same way */
function acceptsV2Protobuf(accept: string | undefined): boolean {
  return !!accept && /application\/com\.github\.proto-openapi\.spec\.v2@v(1|2)\.0\+protobuf/.test(accept);
}

/** JSON (and v2 protobuf) is what we have; a client asking only for something else gets 406 */
function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').some((clause) => {
    const type = clause.split(';')[0].trim().toLowerCase();
    return type === 'application/json' || type === '*/*' || type === 'application/*' || type === '';
  });
}

function sendStatus(res: ServerResponse, err: ApiError): void {
  const text = JSON.stringify(err.toStatus());
  res.writeHead(err.code, {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** as Go's http.Error / http.NotFound, which upstream's OpenAPI handlers use */
function sendText(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

function sendRendered(
  req: IncomingMessage,
  res: ServerResponse,
  r: Rendered,
  immutable: boolean,
  contentType = 'application/json',
): void {
  const etag = `"${r.hash}"`;
  const headers: Record<string, string> = {
    'Content-Type': contentType,
    ETag: etag,
    // a hash-pinned URL never changes content; anything else is revalidated with the ETag
    'Cache-Control': immutable ? 'public, immutable' : 'no-cache, private',
    Vary: 'Accept',
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  headers['Content-Length'] = String(r.body.length);
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : r.body);
}

/**
 * The /openapi routes, ready to mount: returns false for any other path. /openapi/v2 comes as JSON or, when asked
 * for (as kubectl does), as gnostic protobuf; v3 documents as JSON only (406 for anything else, as upstream
 * answers an Accept it cannot meet).
 */
export function handleOpenApi(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const path = url.pathname;
  if (path !== '/openapi/v2' && path !== '/openapi/v3' && !path.startsWith('/openapi/v3/')) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendStatus(
      res,
      errors.methodNotAllowed(`the server does not allow this method on the requested resource`),
    );
    return true;
  }
  if (path === '/openapi/v2' && acceptsV2Protobuf(req.headers.accept)) {
    sendRendered(req, res, v2ProtobufRendered(), false, V2_PROTOBUF_CONTENT_TYPE);
    return true;
  }
  if (!acceptsJson(req.headers.accept)) {
    sendText(
      res,
      406,
      `406 Not Acceptable: ${path} is served as application/json, not ${String(req.headers.accept)}\n`,
    );
    return true;
  }
  if (path === '/openapi/v2') {
    sendRendered(req, res, v2Rendered(), false);
    return true;
  }
  const gvPath = path.slice('/openapi/v3'.length).replace(/^\/+|\/+$/g, '');
  if (gvPath === '') {
    const text = JSON.stringify(openapiV3Index());
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(text)),
      'Cache-Control': 'no-cache, private',
    });
    res.end(req.method === 'HEAD' ? undefined : text);
    return true;
  }
  const r = v3Rendered(gvPath);
  if (!r) {
    sendText(res, 404, '404 page not found\n');
    return true;
  }
  const asked = url.searchParams.get('hash');
  if (asked !== null && asked !== r.hash) {
    // upstream sends a client holding a stale hash to the current document
    res.writeHead(301, {
      Location: `/openapi/v3/${gvPath}?hash=${r.hash}`,
      'Cache-Control': 'no-cache, private',
    });
    res.end();
    return true;
  }
  sendRendered(req, res, r, asked !== null);
  return true;
}
