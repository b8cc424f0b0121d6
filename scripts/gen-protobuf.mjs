// Generates src/api/protobuf/generated/messages.ts — the protobuf field table decodeProtobufBody reads — from
// upstream's generated.proto files checked in under api/upstream/v1.33/proto (k8s.io/api and k8s.io/apimachinery at
// v0.33.x, see SOURCE.md there), with the JSON side of each field taken from the Go struct tags of upstream's types.go
// (the json name, `,inline`, `omitempty` and whether the Go field is a pointer), extracted as data into
// go-structs.json beside the .proto files by scripts/extract-go-structs.mjs.
//
// Why both: go-to-protobuf names proto fields after the json tag, but the .proto does not say which fields are
// inlined into their parent's JSON (`json:",inline"`), nor which zero values upstream's JSON rendering drops (a
// non-pointer `omitempty` field is always on the wire, even when zero; a pointer is on the wire only when set).
//
// The parser is a small one for the proto2 subset go-to-protobuf emits (package, import, option, message with
// `optional`/`repeated`/`map<string, T>` fields, // comments; no nesting, enums, oneofs or groups): protobufjs'
// parser would do, but it is not a dependency and would not read the Go tags, so ~100 lines here beat adding it.
// Anything outside that subset fails the generator rather than being skipped.
//
// Fields a release removed are kept from an older release's proto (api/upstream/v1.30/proto, core/v1 only), so a
// 1.30 client's body still decodes: upstream reserves removed field numbers, they never clash.
//
//   node scripts/gen-protobuf.mjs            write the generated file
//   node scripts/gen-protobuf.mjs --stdout   print it instead (the freshness test compares the two)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RELEASE_DIR = 'api/upstream/v1.33/proto';
const LEGACY_DIRS = ['api/upstream/v1.30/proto'];
const OUT = 'src/api/protobuf/generated/messages.ts';

// flags, as src/api/protobuf/messages.ts defines them
const R = 1;
const M = 2;
const I = 4;
const K = 8;

/** messages the decoder renders by code (their JSON is not an object of their fields) */
const WELL_KNOWN = new Set([
  'meta.v1.Time',
  'meta.v1.MicroTime',
  'meta.v1.FieldsV1',
  'resource.Quantity',
  'resource.QuantityValue',
  'intstr.IntOrString',
  'meta.v1.Duration',
  'runtime.RawExtension',
  'runtime.Unknown',
]);
const SCALARS = new Set(['string', 'bytes', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'double', 'float']);

/** `k8s.io.api.core.v1.PodSpec` → `core.v1.PodSpec`, `k8s.io.apimachinery.pkg.apis.meta.v1.Time` → `meta.v1.Time` */
function shortName(full) {
  const name = full.replace(/^\./, '');
  for (const [prefix, short] of [
    ['k8s.io.apimachinery.pkg.apis.', ''],
    ['k8s.io.apimachinery.pkg.runtime.schema.', 'schema.'],
    ['k8s.io.apimachinery.pkg.runtime.', 'runtime.'],
    ['k8s.io.apimachinery.pkg.util.intstr.', 'intstr.'],
    ['k8s.io.apimachinery.pkg.api.resource.', 'resource.'],
    ['k8s.io.api.', ''],
  ]) {
    if (name.startsWith(prefix)) return short + name.slice(prefix.length);
  }
  throw new Error(`unexpected proto package in ${full}`);
}

function walk(dir, name) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(path, name));
    else if (entry.name === name) out.push(path);
  }
  return out;
}

/**
 * Parse one generated.proto: { package, messages: [{ name, fields: [{ label, type, name, number }], comment }] }.
 * `label` is optional | repeated | map; for a map, `type` is the value type (upstream's keys are all strings).
 */
function parseProto(text, file) {
  // block comments (the license header) carry nothing; keep their newlines so line numbers stay right
  const lines = text.replace(/^\/\*[\s\S]*?\*\//gm, (c) => c.replace(/[^\n]/g, '')).split('\n');
  let pkg = '';
  const messages = [];
  let current;
  let comment = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const where = `${file}:${i + 1}`;
    if (line.startsWith('//')) {
      comment.push(line.slice(2).trim());
      return;
    }
    if (line === '') {
      if (!current) comment = [];
      return;
    }
    let m;
    if (!current) {
      if ((m = /^syntax = "proto2";$/.exec(line))) return;
      if ((m = /^package ([\w.]+);$/.exec(line))) pkg = m[1];
      else if (/^import "[\w./-]+";$/.test(line) || /^option \w+ = "[^"]*";$/.test(line)) {
        /* imports resolve by full name; options are Go's */
      } else if ((m = /^message (\w+) \{(\})?$/.exec(line))) {
        current = { name: m[1], fields: [], comment };
        if (m[2]) {
          messages.push(current);
          current = undefined;
        }
      } else throw new Error(`${where}: unsupported proto statement: ${line}`);
      comment = [];
      return;
    }
    if (line === '}') {
      messages.push(current);
      current = undefined;
      comment = [];
      return;
    }
    if ((m = /^(optional|repeated) ([\w.]+) (\w+) = (\d+);$/.exec(line))) {
      current.fields.push({ label: m[1], type: m[2], name: m[3], number: Number(m[4]) });
    } else if ((m = /^map<string, ([\w.]+)> (\w+) = (\d+);$/.exec(line))) {
      current.fields.push({ label: 'map', type: m[1], name: m[2], number: Number(m[3]) });
    } else throw new Error(`${where}: unsupported proto field: ${line}`);
    comment = [];
  });
  if (current) throw new Error(`${file}: message ${current.name} is not closed`);
  if (!pkg) throw new Error(`${file}: no package statement`);
  return { package: pkg, messages };
}

/**
 * The Go side of each package (go-structs.json, made by scripts/extract-go-structs.mjs from upstream's types.go):
 * import path → { groupName?, structs: name → { kind?, fields: number → { json, inline?, omitempty?, pointer? } }
 * or { aliasOf, name } }, as Maps keyed the way loadRelease looks them up.
 */
function loadGoStructs(dir) {
  const data = JSON.parse(readFileSync(join(dir, 'go-structs.json'), 'utf8'));
  const packages = new Map();
  for (const [pkg, { groupName, structs }] of Object.entries(data)) {
    const byName = new Map();
    for (const [name, s] of Object.entries(structs)) {
      if (s.aliasOf) byName.set(name, s);
      else
        byName.set(name, {
          runtimeObject: s.kind === true,
          fields: new Map(Object.entries(s.fields).map(([n, f]) => [Number(n), f])),
        });
    }
    packages.set(pkg, { groupName, structs: byName });
  }
  return packages;
}

/** the API group of a k8s.io/api package: its doc.go `+groupName=` (none: the package's group dir name) */
function groupOf(goPackage, pkg) {
  if (goPackage?.groupName !== undefined) return goPackage.groupName;
  const [group] = shortName(`${pkg}.X`).split('.');
  return group;
}

/** every message of one release dir, as { short name → { fields, comment, go, kind? } } */
function loadRelease(dirRel) {
  const dir = join(root, dirRel);
  const messages = new Map();
  const goPackages = loadGoStructs(dir);
  const resolve = (struct) => {
    for (let hops = 0; struct?.aliasOf; hops++) {
      if (hops > 3) throw new Error(`alias loop at ${struct.name}`);
      struct = goPackages.get(struct.aliasOf)?.structs.get(struct.name);
    }
    return struct;
  };
  for (const file of walk(dir, 'generated.proto')) {
    const pkgDir = dirname(file);
    const proto = parseProto(readFileSync(file, 'utf8'), relative(root, file));
    const goPackage = goPackages.get(goImportPath(dir, pkgDir));
    const structs = goPackage?.structs ?? new Map();
    const isApiGroup = proto.package.startsWith('k8s.io.api.');
    const [, version] = shortName(`${proto.package}.X`).split('.');
    const group = isApiGroup ? groupOf(goPackage, proto.package) : undefined;
    for (const message of proto.messages) {
      const short = shortName(`${proto.package}.${message.name}`);
      const qualify = (type) =>
        SCALARS.has(type) ? type : shortName(type.startsWith('.') ? type : `${proto.package}.${type}`);
      const go = resolve(structs.get(message.name));
      const runtimeObject = isApiGroup && go?.runtimeObject;
      messages.set(short, {
        file: relative(root, file),
        fields: message.fields.map((f) => ({ ...f, type: qualify(f.type) })),
        listWrapper: message.comment.includes('+protobuf.nullable=true'),
        go: go?.fields,
        kind: runtimeObject
          ? { apiVersion: group ? `${group}/${version}` : version, kind: message.name }
          : undefined,
      });
    }
  }
  return messages;
}

/** `<dir>/k8s.io/api/core/v1` → `k8s.io/api/core/v1` */
function goImportPath(releaseDir, pkgDir) {
  return relative(releaseDir, pkgDir).split('\\').join('/');
}

/** one field table row: [json, type, flags] */
function row(messageName, message, field) {
  const label = `${messageName}.${field.name} (${message.file})`;
  let flags = field.label === 'repeated' ? R : field.label === 'map' ? M : 0;
  let json = field.name;
  if (message.listWrapper || WELL_KNOWN.has(messageName))
    return flags ? [json, field.type, flags] : [json, field.type];
  const go = message.go?.get(field.number);
  if (!go) throw new Error(`${label}: no Go struct field with protobuf tag ${field.number}`);
  if (go.json === '-') throw new Error(`${label}: Go field is not in JSON`);
  if (go.inline) {
    if (flags || SCALARS.has(field.type)) throw new Error(`${label}: inline of a non-message`);
    return ['', field.type, I];
  }
  json = go.json || field.name;
  // K matters only where the decoder drops zero values: scalars and the scalar-like IntOrString and Quantity
  const zeroable =
    SCALARS.has(field.type) || field.type === 'intstr.IntOrString' || field.type === 'resource.Quantity';
  if (!flags && zeroable && (go.pointer || !go.omitempty)) flags |= K;
  return flags ? [json, field.type, flags] : [json, field.type];
}

function generate() {
  const release = loadRelease(RELEASE_DIR);
  // fields and messages an older release had and this one removed (numbers are reserved upstream)
  for (const legacyDir of LEGACY_DIRS) {
    for (const [name, old] of loadRelease(legacyDir)) {
      const now = release.get(name);
      if (!now) {
        release.set(name, { ...old, kind: undefined });
        continue;
      }
      const numbers = new Set(now.fields.map((f) => f.number));
      for (const f of old.fields) {
        if (numbers.has(f.number)) continue;
        now.fields.push(f);
        now.go = new Map(now.go);
        now.go.set(f.number, old.go.get(f.number));
      }
    }
  }
  const names = [...release.keys()].sort();
  const table = [];
  const kinds = [];
  const lists = [];
  for (const name of names) {
    const message = release.get(name);
    if (message.listWrapper) lists.push(name);
    const rows = message.fields.map((f) => {
      const [json, type, flags] = row(name, message, f);
      if (!SCALARS.has(type) && !release.has(type))
        throw new Error(`${name}.${f.name}: unknown type ${type}`);
      return `${f.number}: [${[JSON.stringify(json).replace(/"/g, "'"), `'${type}'`, flags].filter((x) => x !== undefined).join(', ')}]`;
    });
    table.push(`  '${name}': { ${rows.join(', ')} },`);
    if (message.kind) kinds.push(`  '${message.kind.apiVersion}/${message.kind.kind}': '${name}',`);
  }
  const sources = [RELEASE_DIR, ...LEGACY_DIRS].join(', ');
  return [
    `// Code generated by scripts/gen-protobuf.mjs from ${sources} (generated.proto + Go struct tags). DO NOT EDIT.`,
    '// Regenerate with `npm run gen:protobuf`; src/api/protobuf/generated.test.ts fails when this file is stale.',
    "import type { MessageSpec } from '../messages.js';",
    '',
    '/** MESSAGES[message][field number] = [jsonName, type, flags?]; flags R=1 repeated, M=2 map, I=4 inline, K=8 keep zero */',
    'export const MESSAGES: Readonly<Record<string, MessageSpec>> = {',
    ...table,
    '};',
    '',
    '/** the message of each kind (a Go struct embedding TypeMeta), by `apiVersion/kind` */',
    'export const KIND_MESSAGES: Readonly<Record<string, string>> = {',
    ...kinds,
    '};',
    '',
    '/** messages wrapping a Go named slice (`+protobuf.nullable=true`): JSON renders them as the list of their items */',
    'export const LIST_MESSAGES: ReadonlySet<string> = new Set([',
    ...lists.map((l) => `  '${l}',`),
    ']);',
    '',
  ].join('\n');
}

const text = generate();
if (process.argv.includes('--stdout')) process.stdout.write(text);
else {
  writeFileSync(join(root, OUT), text);
  process.stderr.write(`wrote ${OUT}\n`);
}
