import { describe, expect, it } from 'vitest';
import { authorizeKubeletRequest, kubeletRequestAttributes } from './server-auth.js';

describe("the kubelet's authorization", () => {
  it("maps paths to nodes subresources and methods to verbs, as upstream's kubelet does", () => {
    expect(kubeletRequestAttributes('GET', '/stats/summary')).toEqual({
      verb: 'get',
      resource: 'nodes',
      subresource: 'stats',
    });
    expect(kubeletRequestAttributes('GET', '/containerLogs/default/web/nginx').subresource).toBe('proxy');
    expect(kubeletRequestAttributes('GET', '/logs/syslog').subresource).toBe('log');
    expect(kubeletRequestAttributes('GET', '/metrics/cadvisor').subresource).toBe('metrics');
    expect(kubeletRequestAttributes('GET', '/statsx').subresource).toBe('proxy');
    expect(kubeletRequestAttributes('POST', '/exec/a/b/c').verb).toBe('create');
  });

  it("allows the apiserver's client identity only, with upstream's Forbidden text for anyone else", () => {
    const stats = kubeletRequestAttributes('GET', '/stats/summary');
    expect(
      authorizeKubeletRequest({ username: 'kube-apiserver-kubelet-client', groups: [] }, stats),
    ).toBeUndefined();
    expect(authorizeKubeletRequest({ username: 'admin', groups: ['system:masters'] }, stats)).toBeUndefined();
    expect(authorizeKubeletRequest({ username: 'system:node:node-2', groups: ['system:nodes'] }, stats)).toBe(
      'Forbidden (user=system:node:node-2, verb=get, resource=nodes, subresource=stats)',
    );
  });
});
