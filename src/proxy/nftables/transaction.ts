// An nftables transaction for one table, written as the `nft -f -` script knftables would send: one command a line,
// applied by the kernel all at once or not at all.

export type NftFamily = 'ip' | 'ip6';

export interface ChainSpec {
  type: 'filter' | 'nat';
  hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  priority: number;
}

export interface SetSpec {
  type: string;
  flags?: string[];
  timeoutSeconds?: number;
  comment?: string;
}

const quote = (s: string): string => JSON.stringify(s);

export class NftTransaction {
  private readonly lines: string[] = [];
  private readonly where: string;

  constructor(
    readonly family: NftFamily,
    readonly table: string,
  ) {
    this.where = `${family} ${table}`;
  }

  get length(): number {
    return this.lines.length;
  }

  /** the script for `nft -f -` */
  toString(): string {
    return this.lines.length ? `${this.lines.join('\n')}\n` : '';
  }

  addTable(comment?: string): void {
    this.lines.push(`add table ${this.where}${comment ? ` { comment ${quote(comment)} ; }` : ''}`);
  }

  deleteTable(): void {
    this.lines.push(`delete table ${this.where}`);
  }

  addChain(name: string, base?: ChainSpec, comment?: string): void {
    const props: string[] = [];
    if (base) props.push(`type ${base.type} hook ${base.hook} priority ${base.priority} ;`);
    if (comment) props.push(`comment ${quote(comment)} ;`);
    this.lines.push(`add chain ${this.where} ${name}${props.length ? ` { ${props.join(' ')} }` : ''}`);
  }

  flushChain(name: string): void {
    this.lines.push(`flush chain ${this.where} ${name}`);
  }

  deleteChain(name: string): void {
    this.lines.push(`delete chain ${this.where} ${name}`);
  }

  addRule(chain: string, rule: string, comment?: string): void {
    this.lines.push(`add rule ${this.where} ${chain} ${rule}${comment ? ` comment ${quote(comment)}` : ''}`);
  }

  addSet(kind: 'set' | 'map', name: string, spec: SetSpec): void {
    const props = [`type ${spec.type} ;`];
    if (spec.flags?.length) props.push(`flags ${spec.flags.join(',')} ;`);
    if (spec.timeoutSeconds !== undefined) props.push(`timeout ${spec.timeoutSeconds}s ;`);
    if (spec.comment) props.push(`comment ${quote(spec.comment)} ;`);
    this.lines.push(`add ${kind} ${this.where} ${name} { ${props.join(' ')} }`);
  }

  flushSet(kind: 'set' | 'map', name: string): void {
    this.lines.push(`flush ${kind} ${this.where} ${name}`);
  }

  deleteSet(kind: 'set' | 'map', name: string): void {
    this.lines.push(`delete ${kind} ${this.where} ${name}`);
  }

  /** `key` parts are joined with ` . `; a map element has a `value` (a verdict here) */
  addElement(container: string, key: readonly string[], value?: string, comment?: string): void {
    const c = comment ? ` comment ${quote(comment)}` : '';
    const v = value !== undefined ? ` : ${value}` : '';
    this.lines.push(`add element ${this.where} ${container} { ${key.join(' . ')}${c}${v} }`);
  }

  deleteElement(container: string, key: readonly string[]): void {
    this.lines.push(`delete element ${this.where} ${container} { ${key.join(' . ')} }`);
  }
}
