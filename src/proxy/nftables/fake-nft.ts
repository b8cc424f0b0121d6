// An in-memory nftables table for tests (as knftables.Fake): applies `nft -f -` scripts of the commands the
// generator writes, all or nothing with the kernel's errors for missing or clashing objects, and dumps the result.

interface FakeChain {
  props: string;
  rules: string[];
}
interface FakeSet {
  kind: 'set' | 'map';
  props: string;
  /** key → the element's text after the key (comment and value) */
  elements: Map<string, { rest: string; value: string }>;
}
interface FakeTable {
  props: string;
  chains: Map<string, FakeChain>;
  sets: Map<string, FakeSet>;
}

const clone = (t: FakeTable): FakeTable => ({
  props: t.props,
  chains: new Map([...t.chains].map(([k, c]) => [k, { props: c.props, rules: [...c.rules] }])),
  sets: new Map(
    [...t.sets].map(([k, s]) => [k, { kind: s.kind, props: s.props, elements: new Map(s.elements) }]),
  ),
});

export class FakeNft {
  private table: FakeTable | undefined;

  constructor(
    readonly family: string,
    readonly name: string,
  ) {}

  /** applies the whole script or throws with the first failing line, leaving the table as it was */
  run(script: string): void {
    const work = this.table ? clone(this.table) : undefined;
    let t = work;
    const where = `${this.family} ${this.name}`;
    script.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      const fail = (why: string): never => {
        throw new Error(`line ${i + 1}: ${why}: ${line}`);
      };
      const m = /^(add|flush|delete) (table|chain|rule|set|map|element) (\S+ \S+)(?: (.*))?$/.exec(line);
      if (!m) return fail('cannot parse');
      const [, verb, what, tableName, rest = ''] = m;
      if (tableName !== where) return fail('wrong table');
      if (what === 'table') {
        if (verb === 'add') t ??= { props: rest, chains: new Map(), sets: new Map() };
        else if (verb === 'delete') t = t ? undefined : fail('No such file or directory');
        else if (t) for (const c of t.chains.values()) c.rules = [];
        return;
      }
      if (!t) return fail('No such file or directory (table)');
      const [objName = '', ...more] = rest.split(' ');
      const body = more.join(' ');
      if (what === 'chain') {
        const c = t.chains.get(objName);
        if (verb === 'add') {
          if (!c) t.chains.set(objName, { props: body, rules: [] });
          else if (body && c.props && body !== c.props) fail('Device or resource busy (chain changed)');
        } else if (!c) fail('No such file or directory (chain)');
        else if (verb === 'flush') c.rules = [];
        else {
          if (c.rules.length) fail('Device or resource busy (chain not empty)');
          const ref = new RegExp(`(goto|jump) ${objName.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}( |$)`);
          for (const [n, o] of t.chains) if (o.rules.some((r) => ref.test(r))) fail(`chain in use by ${n}`);
          for (const s of t.sets.values())
            for (const e of s.elements.values()) if (ref.test(e.value)) fail('chain in use by an element');
          t.chains.delete(objName);
        }
        return;
      }
      if (what === 'rule') {
        const c = t.chains.get(objName) ?? fail('No such file or directory (chain)');
        if (verb !== 'add') fail('unsupported');
        for (const ref of body.matchAll(/(?:goto|jump) (\S+)/g))
          if (!t.chains.has(ref[1])) fail(`no chain ${ref[1]}`);
        for (const ref of body.matchAll(/@(\S+)/g)) if (!t.sets.has(ref[1])) fail(`no set ${ref[1]}`);
        c.rules.push(body);
        return;
      }
      if (what === 'set' || what === 'map') {
        const s = t.sets.get(objName);
        if (verb === 'add') {
          if (!s) t.sets.set(objName, { kind: what, props: body, elements: new Map() });
          else if (s.kind !== what) fail('File exists');
        } else if (!s) fail(`No such file or directory (${what})`);
        else if (verb === 'flush') s.elements.clear();
        else t.sets.delete(objName);
        return;
      }
      // element: `NAME { key [comment "…"] [: value] }`
      const s = t.sets.get(objName) ?? fail('No such file or directory (set)');
      const em = /^\{ (.*) \}$/.exec(body) ?? fail('bad element');
      const inner = em[1];
      const colon = inner.indexOf(' : ');
      const keyAndComment = colon >= 0 ? inner.slice(0, colon) : inner;
      const value = colon >= 0 ? inner.slice(colon + 3) : '';
      const key = keyAndComment.replace(/ comment ".*"$/, '');
      const had = s.elements.get(key);
      if (verb === 'add') {
        if (value && !t.chains.has(value.replace(/^(goto|jump) /, '')) && /^(goto|jump) /.test(value))
          fail('no such chain');
        if (had && had.value !== value) fail('File exists');
        if (!had) s.elements.set(key, { rest: inner.slice(key.length), value });
      } else if (verb === 'delete') {
        if (!had) fail('No such file or directory (element)');
        s.elements.delete(key);
      } else fail('unsupported');
    });
    this.table = t;
  }

  /** the table as `add` commands: sets and maps, chains each followed by their rules, elements */
  dump(): string {
    const t = this.table;
    if (!t) return '';
    const where = `${this.family} ${this.name}`;
    const out = [`add table ${where}${t.props ? ` ${t.props}` : ''}`];
    const sets = [...t.sets].sort(([a], [b]) => a.localeCompare(b));
    for (const [n, s] of sets) out.push(`add ${s.kind} ${where} ${n} ${s.props}`);
    for (const [n, c] of [...t.chains].sort(([a], [b]) => a.localeCompare(b))) {
      out.push(`add chain ${where} ${n}${c.props ? ` ${c.props}` : ''}`);
      for (const r of c.rules) out.push(`add rule ${where} ${n} ${r}`);
    }
    for (const [n, s] of sets)
      for (const [k, e] of [...s.elements].sort(([a], [b]) => a.localeCompare(b)))
        out.push(`add element ${where} ${n} { ${k}${e.rest} }`);
    return `${out.join('\n')}\n`;
  }

  chainNames(): string[] {
    return [...(this.table?.chains.keys() ?? [])];
  }

  setNames(): string[] {
    return [...(this.table?.sets.keys() ?? [])];
  }
}

/**
 * A ruleset (a dump, or upstream's expected text) in a canonical form: comments and blank lines dropped, every
 * line but rules sorted, rules grouped by chain in their order.
 */
export function canonicalRuleset(text: string): string {
  const others: string[] = [];
  const rules = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^add rule \S+ \S+ (\S+) /.exec(line);
    if (m) {
      const list = rules.get(m[1]) ?? [];
      list.push(line);
      rules.set(m[1], list);
    } else others.push(line);
  }
  const chains = [...rules.keys()].sort();
  return [...others.sort(), ...chains.flatMap((c) => rules.get(c)!)].join('\n');
}
