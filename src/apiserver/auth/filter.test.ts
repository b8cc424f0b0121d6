import { describe, expect, it } from 'vitest';
import type { ApiHandler, ApiRequest } from '../../api/request.js';
import type { Authorizer } from './authorizer.js';
import { authorizingHandler } from './filter.js';
import { requestAttributes, selectedName, type RequestAttributes } from './request-attributes.js';

describe('a list or watch of one object by field selector is authorized as that object', () => {
  it('reads the name a field selector requires exactly, as upstream RequiresExactMatch', () => {
    expect(selectedName('metadata.name=app-config')).toBe('app-config');
    expect(selectedName('metadata.name==app-config')).toBe('app-config');
    expect(selectedName('spec.nodeName=n1,metadata.name=web')).toBe('web');
    expect(selectedName('metadata.name!=web')).toBeUndefined();
    expect(selectedName('metadata.namespace=default')).toBeUndefined();
    expect(selectedName('metadata.name=a\\,b')).toBe('a,b');
    // not a path segment: no name, so the request stays a list of the collection
    expect(selectedName('metadata.name=..')).toBeUndefined();
    expect(selectedName('metadata.name=a/b')).toBeUndefined();
    expect(selectedName(undefined)).toBeUndefined();
  });

  it('over HTTP', () => {
    const url = new URL(
      'https://x/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dapp-config&watch=true',
    );
    expect(requestAttributes('GET', url).resource).toMatchObject({ verb: 'watch', name: 'app-config' });
  });

  // the components' WebSocket face: the kubelet's informer for the one ConfigMap a pod mounts was refused by the
  // Node authorizer ("No Object name found") and its volume followed a `kubectl patch cm` only ~30 s later
  it('over the components’ WebSocket face, list and watch alike', async () => {
    const seen: RequestAttributes[] = [];
    const authorizer = {
      authorize: (_user: unknown, attrs: RequestAttributes) => {
        seen.push(attrs);
        return { allowed: true };
      },
    } as unknown as Authorizer;
    const api: ApiHandler = {
      handle: () => Promise.resolve({ code: 200, body: {} }),
      watch: () => Promise.resolve(),
    } as unknown as ApiHandler;
    const handler = authorizingHandler(api, () => authorizer);
    const req: ApiRequest = {
      verb: 'list',
      group: '',
      version: 'v1',
      resource: 'configmaps',
      namespace: 'default',
      options: { fieldSelector: 'metadata.name=app-config' },
      user: { username: 'system:node:node-1', groups: ['system:nodes'] },
    };
    await handler.handle(req);
    await handler.watch(req, {} as never);
    await handler.handle({ ...req, options: {} });
    expect(seen.map((a) => [a.resource?.verb, a.resource?.name])).toEqual([
      ['list', 'app-config'],
      ['watch', 'app-config'],
      ['list', undefined],
    ]);
  });
});
