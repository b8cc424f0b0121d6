// Extracts, from upstream's Go API types, the facts about each protobuf-tagged struct field that the .proto files
// do not carry — its JSON name, `,inline`, `omitempty`, whether the Go field is a pointer — plus which structs are
// kinds (embed TypeMeta inline), `type X otherpkg.Y` aliases, and each package's `+groupName`. It writes them as
// data (go-structs.json) beside the checked-in generated.proto files, which scripts/gen-protobuf.mjs reads; the Go
// sources themselves are not checked in.
//
//   node scripts/extract-go-structs.mjs <go-tree> <release-dir>
//
// <go-tree> is laid out by Go import path like <release-dir> (`k8s.io/api/core/v1/types.go`,
// `k8s.io/apimachinery/pkg/apis/meta/v1/types.go`), e.g. made from kubernetes/api and kubernetes/apimachinery at
// the release's tag with `git show <tag>:<path>` (see SOURCE.md in the release dir for the files and commits).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** every directory under `dir` that holds .go files */
function goDirs(dir) {
  const out = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  if (entries.some((e) => e.isFile() && e.name.endsWith('.go'))) out.push(dir);
  for (const e of entries) if (e.isDirectory()) out.push(...goDirs(join(dir, e.name)));
  return out;
}

/**
 * The Go structs of a package's .go files: struct name → { kind?, fields: { number: { json, inline?, omitempty?,
 * pointer? } } } for the protobuf-tagged fields, or { aliasOf, name } for `type X otherpkg.Y`.
 */
function parseGoStructs(files) {
  const structs = {};
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    let current;
    for (const line of text.split('\n')) {
      // `type MatchCondition v1.MatchCondition`: the same struct as another package's, by its import path
      const alias = /^type (\w+) (\w+)\.(\w+)\s*$/.exec(line);
      if (alias) {
        const imp =
          new RegExp(`^\\s*${alias[2]} "([^"]+)"`, 'm').exec(text) ??
          new RegExp(`^\\s*"([^"]+/${alias[2]})"`, 'm').exec(text);
        if (!imp) throw new Error(`${file}: no import for ${alias[2]} in ${line}`);
        structs[alias[1]] = { aliasOf: imp[1], name: alias[3] };
        continue;
      }
      const open = /^type (\w+) struct \{\s*$/.exec(line);
      if (open) {
        current = { fields: {} };
        structs[open[1]] = current;
        continue;
      }
      if (!current) continue;
      if (line === '}') {
        current = undefined;
        continue;
      }
      // an API object embeds `metav1.TypeMeta \`json:",inline"\``: it is a kind
      if (/^\s+(?:\w+\.)?TypeMeta\s+`json:",inline"/.test(line)) current.kind = true;
      const field = /^\s+(?:(\w+)\s+)?([^\s`]+)\s+`([^`]*)`/.exec(line);
      if (!field) continue;
      const tags = field[3];
      const proto = /protobuf:"[a-z0-9]+,(\d+),/.exec(tags);
      if (!proto) continue;
      const json = /json:"([^"]*)"/.exec(tags);
      // runtime.Unknown has no JSON form: its fields keep their proto names
      const [jsonName, ...options] = (json?.[1] ?? '').split(',');
      const f = { json: jsonName };
      if (options.includes('inline')) f.inline = true;
      if (options.includes('omitempty')) f.omitempty = true;
      if (field[2].startsWith('*')) f.pointer = true;
      current.fields[proto[1]] = f;
    }
  }
  return structs;
}

/** a k8s.io/api package's `+groupName=` from its doc.go, if it has one */
function groupName(dir) {
  const doc = join(dir, 'doc.go');
  const tag = existsSync(doc) ? /^\/\/ \+groupName=(.*)$/m.exec(readFileSync(doc, 'utf8')) : null;
  return tag ? tag[1].trim() : undefined;
}

const [goTree, releaseDir] = process.argv.slice(2);
if (!goTree || !releaseDir) {
  process.stderr.write('usage: node scripts/extract-go-structs.mjs <go-tree> <release-dir>\n');
  process.exit(2);
}
const out = {};
for (const dir of goDirs(goTree)) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.go'))
    .sort()
    .map((f) => join(dir, f));
  const pkg = relative(goTree, dir).split('\\').join('/');
  const group = groupName(dir);
  out[pkg] = { ...(group !== undefined ? { groupName: group } : {}), structs: parseGoStructs(files) };
}
writeFileSync(join(releaseDir, 'go-structs.json'), JSON.stringify(out, null, 1) + '\n');
process.stderr.write(`wrote ${join(releaseDir, 'go-structs.json')} (${Object.keys(out).length} packages)\n`);
