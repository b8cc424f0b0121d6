// Sets of field paths as structured-merge-diff keeps them (fieldpath.Set), and their FieldsV1 JSON form.
//
// A path is a list of elements, each written exactly as FieldsV1 writes it: `f:<field>`, `k:<json object of
// merge keys>`, `v:<json value>` (set items) or `i:<index>`. A set is a trie: `members` are the elements that end
// a path at this node, `children` the elements under which longer paths continue.

export type PathElement = string;
export type FieldPath = readonly PathElement[];

function rank(pe: PathElement): number {
  switch (pe.charCodeAt(0)) {
    case 0x66 /* f */:
      return 0;
    case 0x6b /* k */:
      return 1;
    case 0x76 /* v */:
      return 2;
    case 0x69 /* i */:
      return 3;
    default:
      return 4;
  }
}

/** upstream's PathElement.Compare: field names, then keys, then values, then indices */
export function comparePathElements(a: PathElement, b: PathElement): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 3) return Number(a.slice(2)) - Number(b.slice(2));
  return a < b ? -1 : a > b ? 1 : 0;
}

export class FieldSet {
  readonly members = new Set<PathElement>();
  readonly children = new Map<PathElement, FieldSet>();

  static of(...paths: FieldPath[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  isEmpty(): boolean {
    return this.members.size === 0 && this.children.size === 0;
  }

  insert(path: FieldPath): void {
    if (path.length === 0) return;
    this.node(path, path.length - 1).members.add(path[path.length - 1]);
  }

  /** the node under the first `depth` elements of path, created as needed */
  private node(path: FieldPath, depth: number): FieldSet {
    let node = this as FieldSet;
    for (let i = 0; i < depth; i++) {
      let child = node.children.get(path[i]);
      if (!child) {
        child = new FieldSet();
        node.children.set(path[i], child);
      }
      node = child;
    }
    return node;
  }

  has(path: FieldPath): boolean {
    if (path.length === 0) return false;
    const parent = this.at(path, path.length - 1);
    return parent !== undefined && parent.members.has(path[path.length - 1]);
  }

  /** the subtree under a path (upstream WithPrefix), or undefined when nothing continues there */
  at(path: FieldPath, depth = path.length): FieldSet | undefined {
    let node = this as FieldSet | undefined;
    for (let i = 0; i < depth && node; i++) node = node.children.get(path[i]);
    return node;
  }

  /** a path, or any longer path below it, is in the set */
  hasPrefix(path: FieldPath): boolean {
    if (this.has(path)) return true;
    const sub = this.at(path);
    return sub !== undefined && !sub.isEmpty();
  }

  copy(): FieldSet {
    const s = new FieldSet();
    for (const m of this.members) s.members.add(m);
    for (const [pe, child] of this.children) s.children.set(pe, child.copy());
    return s;
  }

  union(other: FieldSet): FieldSet {
    const s = this.copy();
    for (const m of other.members) s.members.add(m);
    for (const [pe, child] of other.children) {
      const mine = s.children.get(pe);
      s.children.set(pe, mine ? mine.union(child) : child.copy());
    }
    return s;
  }

  intersection(other: FieldSet): FieldSet {
    const s = new FieldSet();
    for (const m of this.members) if (other.members.has(m)) s.members.add(m);
    for (const [pe, child] of this.children) {
      const theirs = other.children.get(pe);
      if (!theirs) continue;
      const both = child.intersection(theirs);
      if (!both.isEmpty()) s.children.set(pe, both);
    }
    return s;
  }

  /** exact-path difference (upstream Difference): a path stays unless the other set has that very path */
  difference(other: FieldSet): FieldSet {
    const s = new FieldSet();
    for (const m of this.members) if (!other.members.has(m)) s.members.add(m);
    for (const [pe, child] of this.children) {
      const theirs = other.children.get(pe);
      const rest = theirs ? child.difference(theirs) : child.copy();
      if (!rest.isEmpty()) s.children.set(pe, rest);
    }
    return s;
  }

  /** drop every path that equals or lies under one of `prefixes` (upstream's exclude-set filter) */
  withoutPrefixes(prefixes: readonly FieldPath[]): FieldSet {
    return this.copy().dropPrefixes(prefixes);
  }

  // In-place forms of union, difference and withoutPrefixes, for a set its caller owns (one it built, or a copy):
  // the managedFields bookkeeping of every write would otherwise copy whole tries several times over.

  /** in place: add every path of `other`, taking over its subtrees (`other` must not be used afterwards) */
  absorb(other: FieldSet): this {
    for (const m of other.members) this.members.add(m);
    for (const [pe, child] of other.children) {
      const mine = this.children.get(pe);
      if (mine) mine.absorb(child);
      else this.children.set(pe, child);
    }
    return this;
  }

  /** in place: `difference` (exact paths), leaving no empty node behind */
  subtract(other: FieldSet): this {
    for (const m of other.members) this.members.delete(m);
    for (const [pe, theirs] of other.children) {
      const mine = this.children.get(pe);
      if (!mine) continue;
      mine.subtract(theirs);
      if (mine.isEmpty()) this.children.delete(pe);
    }
    return this;
  }

  /** in place: `withoutPrefixes` */
  dropPrefixes(prefixes: readonly FieldPath[]): this {
    for (const prefix of prefixes) this.dropPrefix(prefix);
    return this;
  }

  /** in place, on a private copy: remove the prefix's subtree, then the nodes it leaves empty */
  private dropPrefix(prefix: FieldPath): void {
    if (prefix.length === 0) {
      this.members.clear();
      this.children.clear();
      return;
    }
    const [head, ...rest] = prefix as [PathElement, ...PathElement[]];
    if (rest.length === 0) {
      this.members.delete(head);
      this.children.delete(head);
      return;
    }
    const child = this.children.get(head);
    if (!child) return;
    child.dropPrefix(rest);
    if (child.isEmpty()) this.children.delete(head);
  }

  /** every member path, in upstream's Iterate order (a node's members first, then its children, each sorted) */
  paths(): FieldPath[] {
    const out: FieldPath[] = [];
    const walk = (node: FieldSet, prefix: PathElement[]): void => {
      for (const m of [...node.members].sort(comparePathElements)) out.push([...prefix, m]);
      for (const pe of [...node.children.keys()].sort(comparePathElements))
        walk(node.children.get(pe)!, [...prefix, pe]);
    };
    walk(this, []);
    return out;
  }

  equals(other: FieldSet): boolean {
    return this.difference(other).isEmpty() && other.difference(this).isEmpty();
  }

  /** FieldsV1 JSON: `{"f:spec":{"f:replicas":{}}}`, with `".":{}` where a path both ends and continues */
  toFieldsV1(): Record<string, unknown> {
    return encodeNode(this, false);
  }

  /** parse FieldsV1; throws a plain Error on anything malformed (callers turn it into their own error) */
  static fromFieldsV1(fields: unknown): FieldSet {
    const s = new FieldSet();
    decodeNode(fields, [], s);
    return s;
  }
}

/**
 * `keys` sorted in place by comparePathElements: an insertion sort for the few elements a node mostly has
 * (Array.prototype.sort with a comparator allocates a work array on every call, and every write encodes its
 * managedFields node by node)
 */
function sortPathElements(keys: PathElement[]): PathElement[] {
  if (keys.length > 16) return keys.sort(comparePathElements);
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i];
    let j = i - 1;
    while (j >= 0 && comparePathElements(keys[j], k) > 0) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

function encodeNode(node: FieldSet, includeSelf: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (includeSelf && !node.isEmpty()) out['.'] = {};
  const keys = [...node.members];
  for (const pe of node.children.keys()) if (!node.members.has(pe)) keys.push(pe);
  for (const pe of sortPathElements(keys)) {
    const child = node.children.get(pe);
    // a path element always starts `f:`, `k:`, `v:` or `i:`: never `__proto__`, so plain assignment is safe
    out[pe] = child ? encodeNode(child, node.members.has(pe)) : {};
  }
  return out;
}

function decodeNode(fields: unknown, prefix: PathElement[], into: FieldSet): void {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new Error(`expected an object at ${pathString(prefix) || 'the root'}`);
  }
  for (const [key, value] of Object.entries(fields as Record<string, unknown>)) {
    if (key === '.') {
      if (prefix.length === 0) throw new Error('"." at the root of a field set');
      into.insert(prefix);
      continue;
    }
    if (key.charCodeAt(1) !== 0x3a /* : */ || rank(key) === 4)
      throw new Error(`unknown path element ${JSON.stringify(key)}`);
    // keys and values must be JSON (JSON.parse throws otherwise), keys JSON objects
    const parsed: unknown = key[0] === 'k' || key[0] === 'v' ? JSON.parse(key.slice(2)) : undefined;
    if (key[0] === 'k' && (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))) {
      throw new Error(`bad key ${JSON.stringify(key)}`);
    }
    if (key[0] === 'i' && !/^i:\d+$/.test(key)) throw new Error(`bad index ${JSON.stringify(key)}`);
    const path = [...prefix, key];
    if (
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      Object.keys(value).length === 0
    ) {
      into.insert(path);
    } else {
      decodeNode(value, path, into);
    }
  }
}

/** value.ToString of structured-merge-diff: strings quoted, maps as {k=v}, lists as [a,b] */
function valueString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(valueString).join(',')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, x]) => `${k}=${valueString(x)}`).join(',')}}`;
  }
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

/** upstream's Path.String(): `.spec.template.spec.containers[name="nginx"].image` */
export function pathString(path: FieldPath): string {
  return path
    .map((pe) => {
      const body = pe.slice(2);
      switch (pe[0]) {
        case 'f':
          return `.${body}`;
        case 'k': {
          const key = JSON.parse(body) as Record<string, unknown>;
          return `[${Object.entries(key)
            .map(([k, v]) => `${k}=${valueString(v)}`)
            .join(',')}]`;
        }
        case 'v':
          return `[=${valueString(JSON.parse(body))}]`;
        default:
          return `[${body}]`;
      }
    })
    .join('');
}

/** a `k:` element for an associative-list item: the key fields, sorted by name as upstream's FieldList is */
export function keyElement(key: Record<string, unknown>): PathElement {
  const sorted = Object.keys(key).sort();
  return `k:{${sorted.map((k) => `${JSON.stringify(k)}:${JSON.stringify(key[k])}`).join(',')}}`;
}

export function valueElement(v: unknown): PathElement {
  return `v:${JSON.stringify(v)}`;
}

export function fieldElement(name: string): PathElement {
  return `f:${name}`;
}
