// The few Reflect metadata functions tsyringe (pulled in by @peculiar/x509) demands at load time.
// Import this module before @peculiar/x509; it installs nothing when a full polyfill is already present.

type MetadataKey = unknown;
const store = new WeakMap<object, Map<MetadataKey, unknown>>();

interface ReflectMetadata {
  defineMetadata?: (key: MetadataKey, value: unknown, target: object) => void;
  getOwnMetadata?: (key: MetadataKey, target: object) => unknown;
  getMetadata?: (key: MetadataKey, target: object) => unknown;
}

const reflect = Reflect as unknown as ReflectMetadata;

if (typeof reflect.getMetadata !== 'function') {
  const own = (key: MetadataKey, target: object): unknown => store.get(target)?.get(key);
  reflect.defineMetadata = (key, value, target) => {
    let entries = store.get(target);
    if (!entries) store.set(target, (entries = new Map()));
    entries.set(key, value);
  };
  reflect.getOwnMetadata = own;
  reflect.getMetadata = (key, target) => {
    for (let o: object | null = target; o; o = Object.getPrototypeOf(o) as object | null) {
      const value = own(key, o);
      if (value !== undefined) return value;
    }
    return undefined;
  };
}

export {};
