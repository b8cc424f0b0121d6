// upstream's nftElementStorage: what one set or map holds, so a partial sync adds, replaces and deletes only the
// elements that changed instead of flushing the container.
import type { NftTransaction } from './transaction.js';

const SEP = ' . ';

export class ElementStorage {
  /** key → value ('' for a set) */
  private readonly elements = new Map<string, string>();
  /** keys not ensured since the last reset or cleanup: deleted by `cleanupLeftovers` */
  private leftover = new Set<string>();

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
    this.leftover.clear();
    tx.flushSet(this.kind, this.name);
  }

  /** add the element, or replace it when its value changed */
  ensure(tx: NftTransaction, key: readonly string[], value?: string, comment?: string): void {
    const k = key.join(SEP);
    const v = value ?? '';
    const had = this.elements.get(k);
    if (had === undefined) {
      tx.addElement(this.name, key, value, comment);
      this.elements.set(k, v);
    } else {
      if (had !== v) {
        tx.deleteElement(this.name, key);
        tx.addElement(this.name, key, value, comment);
        this.elements.set(k, v);
      }
      this.leftover.delete(k);
    }
  }

  /** delete what this sync did not ensure */
  cleanupLeftovers(tx: NftTransaction): void {
    for (const k of this.leftover) {
      tx.deleteElement(this.name, k.split(SEP));
      this.elements.delete(k);
    }
    this.leftover = new Set(this.elements.keys());
  }
}
