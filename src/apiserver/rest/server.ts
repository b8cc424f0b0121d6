// The REST/JSON face: what kubectl and client libraries talk to. It parses HTTP into ApiRequests for
// the registry, serves discovery, tables and watch streams, and answers every failure with a Status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, errors } from '../../api/errors.js';
import { jsonNestingError, yamlNestingError } from '../../api/nesting-depth.js';
import { decodeProtobufBody } from '../../api/protobuf/index.js';
import { decodeRequestTimeout, isPrettyPrint, isWatchQuery } from '../../api/query-params.js';
import {
  PATCH_CONTENT_TYPES,
  type ApiHandler,
  type ApiRequest,
  type KubeObject,
  type UserInfo,
  type WatchEvent,
} from '../../api/request.js';
import { findResource, type ResourceInfo } from '../../api/resources.js';
import { goHostHeaderError } from '../../util/host-header.js';
import type { Logger } from '../../util/logger.js';
import { isStreamable, streamJson } from './json-stream.js';
import { parseOptions, parseResourcePath, verbFor, type ResourcePath } from './parse.js';
import { yieldEventLoop } from '../../util/event-loop.js';
import { hasMoreNodesThan, stringifyInSlices } from '../../util/json-slices.js';
import { OFFLOAD_YAML_CHARS, Offload } from '../offload/offload.js';
import { countJsonKeys, countParsedKeys, jsonValueOf, parseYamlAsJson } from './yaml-body.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

const defaultOffload = new Offload();

/** An extra route: discovery, OpenAPI, /version, selfsubjectreviews, pod logs... */
export type ExtraRoute = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: { url: URL; user: UserInfo | undefined; body: () => Promise<unknown> },
) => Promise<boolean> | boolean;

export interface TableConverter {
  (
    ri: ResourceInfo,
    objects: KubeObject[],
    opts: {
      includeObject?: 'None' | 'Metadata' | 'Object';
      listMeta?: Record<string, unknown>;
      noHeaders?: boolean;
    },
  ): unknown;
}

export interface RestOptions {
  handler: ApiHandler;
  authenticate(req: IncomingMessage): UserInfo | undefined;
  /**
   * impersonation and authorization of an authenticated request (paths in `publicPaths` skip it); returns the
   * user the request runs as or throws (403). Absent: every authenticated request is allowed.
   */
  authorize?(req: IncomingMessage, url: URL, user: UserInfo): UserInfo;
  /** paths anyone may read */
  publicPaths: ReadonlySet<string>;
  logger: Logger;
  /** routes tried before resource routing, in order; return true when handled */
  routes: ExtraRoute[];
  toTable: TableConverter;
  observe?(
    labels: {
      verb: string;
      group: string;
      version: string;
      resource: string;
      subresource: string;
      scope: string;
      code: number;
    },
    seconds: number,
  ): void;
  /** a watch whose client has this much unsent data is cut off (it relists) */
  maxWatchBufferBytes?: number;
  /** runs CPU-heavy steps such as decoding large YAML bodies off the event loop; one shared by default */
  offload?: Offload;
}

type Negotiated =
  { as: 'object' } | { as: 'table'; includeObject?: 'None' | 'Metadata' | 'Object' } | { as: 'metadata' };

/** Pick the representation from Accept: Table and PartialObjectMetadata, else plain JSON. */
function negotiate(accept: string | undefined, q: URLSearchParams): Negotiated {
  if (!accept) return { as: 'object' };
  for (const clause of accept.split(',')) {
    const params = new Map(
      clause
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string]),
    );
    const as = params.get('as');
    if (params.get('g') !== 'meta.k8s.io') continue;
    if (as === 'Table') {
      const inc = q.get('includeObject');
      return {
        as: 'table',
        ...(inc === 'None' || inc === 'Metadata' || inc === 'Object' ? { includeObject: inc } : {}),
      };
    }
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return { as: 'metadata' };
  }
  return { as: 'object' };
}

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  warnings?: string[],
  pretty = false,
): void {
  // upstream's pretty serializer is json.MarshalIndent(obj, "", "  ")
  const text = pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body);
  res.writeHead(code, { ...jsonHeaders(warnings), 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** an object of more nodes than this (a 30,000-key ConfigMap) is serialised in slices */
const SLICED_NODES = 2000;

/**
 * sendJson for one object (a create's, an apply's answer): one of many nodes is serialised a slice at a time
 * (json-slices.ts), the same bytes, so its JSON.stringify does not hold the event loop for tens of milliseconds.
 */
async function sendObject(
  res: ServerResponse,
  code: number,
  body: unknown,
  warnings: string[] | undefined,
  pretty: boolean,
): Promise<void> {
  if (pretty || !hasMoreNodesThan(body, SLICED_NODES)) {
    sendJson(res, code, body, warnings, pretty);
    return;
  }
  const text = (await stringifyInSlices(body)) ?? '';
  res.writeHead(code, { ...jsonHeaders(warnings), 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function jsonHeaders(warnings: string[] | undefined): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
  };
  if (warnings?.length) headers['Warning'] = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  return headers;
}

/**
 * A list (or Table) goes out item by item with flow control (json-stream.ts): an 80 MB list as one
 * JSON.stringify held the event loop for seconds and doubled the apiserver's memory.
 */
async function sendList(
  res: ServerResponse,
  code: number,
  body: unknown,
  warnings: string[] | undefined,
  pretty: boolean,
): Promise<void> {
  if (!isStreamable(body)) {
    sendJson(res, code, body, warnings, pretty);
    return;
  }
  await streamJson(res, code, body, jsonHeaders(warnings), pretty);
}

export function sendError(res: ServerResponse, e: unknown, log: Logger, pretty = false): number {
  const err = e instanceof ApiError ? e : errors.internal(e instanceof Error ? e.message : String(e), e);
  if (!(e instanceof ApiError)) log.error({ err: e }, 'internal error');
  if (!res.headersSent) {
    // upstream's responsewriters: a Status asking the client to wait says so in Retry-After too
    const retryAfter = err.details?.retryAfterSeconds;
    if (retryAfter && retryAfter > 0) res.setHeader('Retry-After', String(retryAfter));
    sendJson(res, err.code, err.toStatus(), undefined, pretty);
  } else res.end();
  return err.code;
}

/** Read the body up to the limit; 413 past it, without buffering the rest. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(errors.tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(errors.tooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** the media types a create, update or delete body may be in (upstream's serializers; CBOR is not served) */
export const INPUT_MEDIA_TYPES: readonly string[] = [
  'application/json',
  'application/yaml',
  'application/vnd.kubernetes.protobuf',
];

/**
 * Parse a JSON, YAML or Kubernetes protobuf body; malformed input is a 400 naming where it broke, a media type
 * not in `accepted` (no Content-Type means JSON) upstream's 415. YAML that is JSON (what kubectl's server-side
 * apply sends) goes through JSON.parse; other large YAML decodes on the offload worker, so the event loop keeps
 * answering while it does.
 */
export async function parseBody(
  buf: Buffer,
  contentType: string | undefined,
  accepted: readonly string[] = INPUT_MEDIA_TYPES,
  offload: Offload = defaultOffload,
): Promise<unknown> {
  if (buf.length === 0) return undefined;
  const ct = (contentType || 'application/json').split(';')[0].trim().toLowerCase();
  // CBOR is recognised (kubectl retries as JSON on 415) but not served
  if (!accepted.includes(ct) || ct.endsWith('cbor')) throw errors.unsupportedMediaType(ct);
  // typed clients (kubectl create/run/autoscale/drain) send protobuf and, unlike CBOR, never retry as JSON on 415
  if (ct === 'application/vnd.kubernetes.protobuf') return decodeProtobufBody(buf);
  const text = buf.toString('utf8');
  const large = text.length >= OFFLOAD_YAML_CHARS;
  let value: unknown;
  if (ct === 'application/yaml' || ct === 'application/apply-patch+yaml') {
    const tooDeep = yamlNestingError(buf);
    if (tooDeep) throw errors.badRequest(`error converting YAML to JSON: ${tooDeep}`);
    if (!large) {
      const json = parseYamlAsJson(text);
      if (!json) return offload.run('decodeYaml', false, text);
      value = json.value;
    } else {
      // a megabyte body: scan, parse and count keys in turns of their own, so no one turn holds the loop for long
      await yieldEventLoop();
      const json = jsonValueOf(text);
      await yieldEventLoop();
      if (!json || countJsonKeys(text) !== countParsedKeys(json.value))
        return offload.run('decodeYaml', true, text);
      value = json.value;
    }
  } else {
    try {
      const tooDeep = jsonNestingError(buf);
      if (tooDeep) throw new Error(tooDeep);
      if (large) await yieldEventLoop();
      value = JSON.parse(text) as unknown;
    } catch (e) {
      throw errors.badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  // a megabyte of JSON takes tens of milliseconds to parse: let waiting requests in before the rest of this one
  if (large) await yieldEventLoop();
  return value;
}

/** Upstream's long-running requests (watches, logs, streams) take no `?timeout=` deadline. */
function isLongRunning(url: URL): boolean {
  return (
    isWatchQuery(url.searchParams) ||
    /^\/apis?\/(?:[^/]+\/)?[^/]+\/watch\//.test(url.pathname) ||
    /\/(?:log|exec|attach|portforward|proxy)\/?$/.test(url.pathname)
  );
}

/**
 * The JSON of the newest watch event's object. Storage hands every watcher the same object for one write, and
 * fans it out to them in one go: one entry encodes a 1 MB object once for all its watchers, not once each.
 */
let lastEncoded: { object: unknown; text: string } | undefined;
function encodeShared(object: unknown): string {
  const last = lastEncoded;
  if (last && last.object === object && typeof object === 'object' && object !== null) return last.text;
  const text = JSON.stringify(object) ?? 'null';
  lastEncoded = { object, text };
  return text;
}

function toMetadataOnly(obj: KubeObject): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata ?? {} };
}

export function createRestHandler(opts: RestOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const log = opts.logger;
  const maxWatchBuffer = opts.maxWatchBufferBytes ?? 16 * 1024 * 1024;
  const offload = opts.offload ?? defaultOffload;

  const serve = async (req: IncomingMessage, res: ServerResponse, started: bigint): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://apiserver');
    // the request-deadline filter runs before authentication: a malformed ?timeout= is a 400 for anyone
    if (!isLongRunning(url)) decodeRequestTimeout(url.searchParams);
    const authenticated = opts.authenticate(req);
    const isPublic = opts.publicPaths.has(url.pathname);
    if (!authenticated && !isPublic) throw errors.unauthorized();
    const user =
      authenticated && opts.authorize && !isPublic ? opts.authorize(req, url, authenticated) : authenticated;
    let bodyCache: Promise<unknown> | undefined;
    const body = (): Promise<unknown> =>
      (bodyCache ??= readBody(req).then((b) =>
        parseBody(
          b,
          req.headers['content-type'],
          req.method === 'PATCH' ? Object.keys(PATCH_CONTENT_TYPES) : INPUT_MEDIA_TYPES,
          offload,
        ),
      ));
    for (const route of opts.routes) {
      if (await route(req, res, { url, user, body })) return;
    }
    const path = parseResourcePath(url.pathname);
    if (!path || !user) {
      throw new ApiError('NotFound', 'the server could not find the requested resource', {});
    }
    await serveResource(req, res, url, path, user, body, started);
  };

  const serveResource = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    path: ResourcePath,
    user: UserInfo,
    body: () => Promise<unknown>,
    started: bigint,
  ): Promise<void> => {
    const method = req.method ?? 'GET';
    const q = url.searchParams;
    const watch = isWatchQuery(q);
    const verb = verbFor(method, path, watch);
    // Unknown resources are a 404 before the body is read: a body we cannot decode should not mask it.
    const known = findResource(path.group, path.resource);
    if (!known || !known.versions.includes(path.version)) {
      throw new ApiError('NotFound', 'the server could not find the requested resource', {});
    }
    let payload: unknown;
    let patchType: ApiRequest['patchType'];
    if (method === 'PATCH') {
      const ct = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      patchType = PATCH_CONTENT_TYPES[ct];
      if (!patchType) throw errors.unsupportedMediaType(ct || '<none>');
      payload = await body();
      if (payload === undefined)
        throw errors.badRequest('the body of the request is empty: a patch is required');
    } else if (method === 'POST' || method === 'PUT') {
      payload = await body();
      if (payload === undefined) throw errors.badRequest('the body of the request is empty');
    } else if (method === 'DELETE') {
      payload = await body();
    }
    const deleteOptions =
      method === 'DELETE' && payload && typeof payload === 'object'
        ? (payload as Record<string, unknown>)
        : undefined;
    const apiReq: ApiRequest = {
      verb,
      group: path.group,
      version: path.version,
      resource: path.resource,
      ...(path.subresource ? { subresource: path.subresource } : {}),
      ...(path.namespace !== undefined ? { namespace: path.namespace } : {}),
      ...(path.name !== undefined ? { name: path.name } : {}),
      ...(method === 'DELETE' ? {} : payload !== undefined ? { body: payload } : {}),
      ...(patchType ? { patchType } : {}),
      options: parseOptions(q, verb, deleteOptions, patchType),
      user,
    };
    const negotiated = negotiate(req.headers.accept, q);
    const ri = findResource(path.group, path.resource);
    const labels = {
      verb: verb === 'list' && watch ? 'WATCH' : verb.toUpperCase(),
      group: path.group,
      version: path.version,
      resource: path.resource,
      subresource: path.subresource ?? '',
      scope: path.name ? 'resource' : path.namespace ? 'namespace' : 'cluster',
    };
    if (verb === 'watch') {
      await serveWatch(res, apiReq, negotiated, ri);
      return;
    }
    const result = await opts.handler.handle(apiReq);
    let out = result.body;
    if (ri && negotiated.as === 'table' && (verb === 'get' || verb === 'list') && !path.subresource) {
      const isList = verb === 'list';
      const list = out as { items?: KubeObject[]; metadata?: Record<string, unknown> };
      out = opts.toTable(ri, isList ? (list.items ?? []) : [out as KubeObject], {
        ...(negotiated.includeObject ? { includeObject: negotiated.includeObject } : {}),
        ...(isList && list.metadata ? { listMeta: list.metadata } : {}),
      });
    } else if (negotiated.as === 'metadata' && (verb === 'get' || verb === 'list')) {
      if (verb === 'list') {
        const list = out as { items: KubeObject[]; metadata: unknown };
        out = {
          kind: 'PartialObjectMetadataList',
          apiVersion: 'meta.k8s.io/v1',
          metadata: list.metadata,
          items: list.items.map(toMetadataOnly),
        };
      } else out = toMetadataOnly(out as KubeObject);
    }
    const pretty = isPrettyPrint(q, req.headers['user-agent']);
    if (verb === 'list') await sendList(res, result.code, out, result.warnings, pretty);
    else await sendObject(res, result.code, out, result.warnings, pretty);
    opts.observe?.({ ...labels, code: result.code }, Number(process.hrtime.bigint() - started) / 1e9);
  };

  const serveWatch = async (
    res: ServerResponse,
    apiReq: ApiRequest,
    negotiated: Negotiated,
    ri: ResourceInfo | undefined,
  ): Promise<void> => {
    let headerWritten = false;
    let first = true;
    const writeHead = (): void => {
      if (headerWritten) return;
      headerWritten = true;
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-cache, private',
        'Transfer-Encoding': 'chunked',
      });
      res.flushHeaders();
    };
    const encode = (ev: WatchEvent): string => {
      let object: unknown = ev.object;
      if (ev.type !== 'ERROR' && ev.type !== 'BOOKMARK' && ri) {
        if (negotiated.as === 'table') {
          object = opts.toTable(ri, [ev.object], {
            ...(negotiated.includeObject ? { includeObject: negotiated.includeObject } : {}),
            noHeaders: !first,
          });
          first = false;
        } else if (negotiated.as === 'metadata') object = toMetadataOnly(ev.object);
      }
      return `{"type":${JSON.stringify(ev.type)},"object":${encodeShared(object)}}\n`;
    };
    let handle: { stop(): void } | undefined;
    let ended = false;
    const finish = (): void => {
      if (ended) return;
      ended = true;
      handle?.stop();
      res.end();
    };
    res.on('close', finish);
    try {
      handle = await opts.handler.watch(apiReq, {
        event(ev) {
          if (ended) return false;
          writeHead();
          res.write(encode(ev));
          return res.writableLength < maxWatchBuffer;
        },
        end(err) {
          if (ended) return;
          if (err) {
            writeHead();
            const status =
              err instanceof ApiError
                ? err.toStatus()
                : errors.internal(err instanceof Error ? err.message : JSON.stringify(err)).toStatus();
            res.write(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
          }
          finish();
        },
      });
      if (ended) handle.stop();
      writeHead();
    } catch (e) {
      if (e instanceof ApiError && (e.reason === 'Expired' || e.reason === 'Gone')) {
        writeHead();
        res.write(`${JSON.stringify({ type: 'ERROR', object: e.toStatus() })}\n`);
        finish();
        return;
      }
      throw e;
    }
  };

  return (req, res) => {
    const started = process.hrtime.bigint();
    const badHost = goHostHeaderError(req.rawHeaders);
    if (badHost) {
      // Go's server answers these itself, in plain text, and closes the connection
      const text = `400 Bad Request: ${badHost}`;
      res.writeHead(400, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': String(text.length),
        Connection: 'close',
      });
      res.end(text);
      return;
    }
    serve(req, res, started).catch((e: unknown) => {
      const q = new URL(req.url ?? '/', 'https://apiserver').searchParams;
      const code = sendError(res, e, log, isPrettyPrint(q, req.headers['user-agent']));
      if (code >= 500) log.warn({ method: req.method, url: req.url, code }, 'request failed');
    });
  };
}
