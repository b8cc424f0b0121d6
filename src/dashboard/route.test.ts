// The dashboard's static route: serves the page's files and nothing else under /dashboard/.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dashboardRoute, dashboardUrl, DASHBOARD_PUBLIC_PATHS } from './route.js';
import { FakeApiHandler } from '../testing/fake-api-handler.js';
import { silentLogger } from '../util/logger.js';

const deps = { handler: new FakeApiHandler(), logger: silentLogger() };

function fakeRes() {
  const r = { code: 0, headers: {} as Record<string, string>, body: '' };
  const res = {
    writeHead(code: number, headers: Record<string, string> = {}) {
      r.code = code;
      r.headers = headers;
      return res;
    },
    end(b?: Buffer | string) {
      if (b) r.body = b.toString();
      return res;
    },
  };
  return { res: res as unknown as ServerResponse, r };
}

async function call(route: ReturnType<typeof dashboardRoute>, path: string, method = 'GET') {
  const { res, r } = fakeRes();
  const handled = await route({ method } as IncomingMessage, res, {
    url: new URL(path, 'https://x'),
    user: undefined,
    body: () => Promise.resolve(undefined),
  });
  return { handled, ...r };
}

describe('dashboard route', () => {
  const web = mkdtempSync(join(tmpdir(), 'dash-'));
  writeFileSync(join(web, 'index.html'), '<html>shell</html>');
  writeFileSync(join(web, 'app.js'), 'export {}');
  const model = join(web, 'compiled-model.js');
  writeFileSync(model, 'export const WATCHED = {}');
  const route = dashboardRoute({ ...deps, webDir: web, modelFile: model });

  it('serves the shell, its scripts and the compiled model with a strict CSP', async () => {
    const index = await call(route, '/dashboard/');
    expect(index).toMatchObject({ handled: true, code: 200, body: '<html>shell</html>' });
    expect(index.headers['Content-Type']).toMatch(/^text\/html/);
    expect(index.headers['Content-Security-Policy']).toContain("script-src 'self'");
    const app = await call(route, '/dashboard/app.js');
    expect(app.headers['Content-Type']).toMatch(/^text\/javascript/);
    expect((await call(route, '/dashboard/model.js')).body).toBe('export const WATCHED = {}');
  });

  it('redirects /dashboard to /dashboard/ and 404s anything not in the page', async () => {
    expect(await call(route, '/dashboard')).toMatchObject({
      code: 301,
      headers: { Location: '/dashboard/' },
    });
    expect((await call(route, '/dashboard/tokens.csv')).code).toBe(404);
    expect((await call(route, '/dashboard/x/app.js')).code).toBe(404);
    expect((await call(route, '/dashboard/style.css')).code).toBe(404); // listed but absent here
    expect((await call(route, '/dashboard/index.html', 'POST')).code).toBe(405);
    expect((await call(route, '/api/v1/pods')).handled).toBe(false);
    expect((await call(route, '/dashboardx')).handled).toBe(false);
  });

  it('lists exactly the shell as public and puts the token in the fragment', () => {
    expect(DASHBOARD_PUBLIC_PATHS).toContain('/dashboard/');
    expect(DASHBOARD_PUBLIC_PATHS).toContain('/dashboard/model.js');
    expect(DASHBOARD_PUBLIC_PATHS.every((p) => p.startsWith('/dashboard'))).toBe(true);
    expect(dashboardUrl('https://127.0.0.1:6443/', 'a b')).toBe(
      'https://127.0.0.1:6443/dashboard/#token=a%20b',
    );
  });

  it('finds the real page files from the package root', async () => {
    const real = dashboardRoute(deps);
    for (const f of ['/dashboard/', '/dashboard/app.js', '/dashboard/render.js', '/dashboard/style.css']) {
      expect((await call(real, f)).code, f).toBe(200);
    }
  });
});
