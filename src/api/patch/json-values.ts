// Tiny helpers for decoded JSON: own-property writes that a "__proto__" key cannot turn into prototype changes.

/** obj[key] = value, always as an own enumerable property */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}
