// The client library every component uses to talk to the apiserver: connection, typed client, informer, work queue.
export {
  ApiConnection,
  apiErrorFromStatus,
  connectionLost,
  type ApiConnectionOptions,
  type ApiTransport,
  type TokenSource,
  type WatchEndHandler,
  type WatchEventHandler,
  type WatchSubscription,
} from './connection.js';
export { handlerTransport } from './local-transport.js';
export {
  KubeClient,
  PodClient,
  ResourceClient,
  connectKubeClient,
  fromKubeconfig,
  internalFaceUrl,
  type ConnectOptions,
  type DeleteOptions,
  type ListOptions,
  type ObjectList,
  type ObjectWithMeta,
  type PatchOptions,
  type PatchType,
  type ResourceDescriptor,
  type WatchOptions,
  type WriteOptions,
} from './typed-client.js';
export {
  Informer,
  Store,
  keyOf,
  splitKey,
  type EventHandlers,
  type Indexers,
  type InformerOptions,
  type ListerWatcher,
} from './informer.js';
export {
  ItemExponentialRateLimiter,
  WorkQueue,
  type RateLimiter,
  type WorkQueueOptions,
} from './workqueue.js';
export {
  EventRecorder,
  referenceTo,
  type EventRecorderOptions,
  type EventTarget,
  type EventType,
} from './event-recorder.js';
