// An in-process ApiTransport over an ApiHandler: lets controllers and informers be tested without sockets.
import { ApiError, errors } from '../api/errors.js';
import type { ApiHandler, ApiResult, UserInfo, WatchEvent, WatchHandle } from '../api/request.js';
import type { WireRequest } from '../api/wire.js';
import type { ApiTransport, WatchEndHandler, WatchEventHandler, WatchSubscription } from './connection.js';

function toApiError(err: unknown): ApiError {
  return ApiError.isApiError(err)
    ? err
    : errors.internal(err instanceof Error ? err.message : 'unknown error', err);
}

/**
 * Call `handler` directly, as the WebSocket face would. Objects are cloned both ways, as the wire would copy
 * them, so neither side can mutate the other's.
 */
export function handlerTransport(
  handler: ApiHandler,
  user: UserInfo = { username: 'system:test', groups: ['system:masters'] },
): ApiTransport {
  return {
    async request(req: WireRequest): Promise<ApiResult> {
      try {
        const result = await handler.handle({
          ...structuredClone(req),
          options: structuredClone(req.options ?? {}),
          user,
        });
        return structuredClone(result);
      } catch (err) {
        throw toApiError(err);
      }
    },
    watch(req: WireRequest, onEvent: WatchEventHandler, onEnd: WatchEndHandler): WatchSubscription {
      let stopped = false;
      let handle: WatchHandle | undefined;
      const finish = (err?: unknown): void => {
        if (stopped) return;
        stopped = true;
        handle?.stop();
        onEnd(err === undefined ? undefined : toApiError(err));
      };
      handler
        .watch(
          { ...structuredClone(req), options: structuredClone(req.options ?? {}), user },
          {
            event(ev: WatchEvent): boolean {
              if (stopped) return false;
              onEvent(structuredClone(ev));
              return true;
            },
            end: finish,
          },
        )
        .then(
          (h) => {
            if (stopped) h.stop();
            else handle = h;
          },
          (err: unknown) => finish(err),
        );
      return {
        stop(): void {
          if (stopped) return;
          stopped = true;
          handle?.stop();
        },
      };
    },
  };
}
