// Test support for strategy tests: the apiserver's Registry on SQLite in memory, made anew before each test and closed
// after it, with requests sent as the apiserver hands them over (the body freshly decoded: stored objects come back
// frozen) by an admin user.
import { afterEach, beforeEach, expect } from 'vitest';
import { ApiError } from '../api/errors.js';
import type { ApiRequest, ApiResult } from '../api/request.js';
import { Registry } from '../apiserver/registry/registry.js';
import { SqliteStorage } from '../apiserver/storage/sqlite-storage.js';

export type RegistryRequest = Pick<ApiRequest, 'verb'> & Partial<ApiRequest>;

const ADMIN = { username: 'alice', uid: 'u-1', groups: ['system:masters', 'system:authenticated'] };

/**
 * Registers beforeEach/afterEach hooks of the calling file; `handle` sends a request, v1 of `defaults.group` (or
 * the core group) unless the request says otherwise.
 */
export function registryPerTest(defaults: Partial<ApiRequest> = {}): {
  handle(req: RegistryRequest): Promise<ApiResult>;
} {
  let storage: SqliteStorage;
  let registry: Registry;
  beforeEach(async () => {
    storage = SqliteStorage.open({ path: ':memory:', freezeObjects: true });
    registry = new Registry({ storage });
    await registry.init();
  });
  afterEach(() => storage.close());
  return {
    handle: (req) =>
      registry.handle({
        group: '',
        version: 'v1',
        resource: '',
        options: {},
        user: ADMIN,
        ...defaults,
        ...req,
        ...(req.body ? { body: structuredClone(req.body) } : {}),
      }),
  };
}

/** the ApiError `p` rejects with (the test fails if it resolves or rejects with something else) */
export async function apiErrorOf(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
}
