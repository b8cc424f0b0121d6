// upstream's nftElementStorage: what one set or map holds, so a partial sync adds, replaces and deletes only the
// elements that changed instead of flushing the container. Each element remembers the Service that wrote it, so
// a partial sync looks only at the elements of the Services it rewrites.
import type { NftTransaction } from './transaction.js';

const SEP = ' . ';

interface Stored {
  value: string;
  owner: string;
}

export class ElementStorage {
  private readonly elements = new Map<string, Stored>();
  /** keys ensured by the sync under way */
  private readonly ensured = new Set<string>();

  constructor(
    readonly kind: 'set' | 'map',
    readonly name: string,
  ) {}

  get size(): number {
    return this.elements.size;
  }

  /** forget everything and flush the container (a full sync) */
  reset(tx: NftTransaction): void {
    this.elements.clear();
    this.ensured.clear();
    tx.flushSet(this.kind, this.name);
  }

  /** add the element for `owner` (a Service key), or replace it when its value changed */
  ensure(tx: NftTransaction, owner: string, key: readonly string[], value?: string, comment?: string): void {
    const k = key.join(SEP);
    const v = value ?? '';
    const had = this.elements.get(k);
    if (!had) tx.addElement(this.name, key, value, comment);
    else if (had.value !== v) {
      tx.deleteElement(this.name, key);
      tx.addElement(this.name, key, value, comment);
    }
    this.elements.set(k, { value: v, owner });
    this.ensured.add(k);
  }

  /** delete the elements of the `owners` (every owner when undefined) that this sync did not ensure */
  cleanupLeftovers(tx: NftTransaction, owners?: ReadonlySet<string>): void {
    for (const [k, e] of this.elements) {
      if (this.ensured.has(k) || (owners && !owners.has(e.owner))) continue;
      tx.deleteElement(this.name, k.split(SEP));
      this.elements.delete(k);
    }
    this.ensured.clear();
  }
}
