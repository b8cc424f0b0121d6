// The custom resources this apiserver serves now: one CustomResource per established CustomResourceDefinition,
// kept by the CRD controller (./controller.ts) and read by routing (findResource), the store, discovery, OpenAPI
// and the table printer. `generation` moves on every change, so caches built from it know when to rebuild.
import { setCustomResourceSource, type ResourceInfo } from '../../api/resources.js';
import type { CustomResource } from './definition.js';

export class ServedCustomResources {
  private readonly byGroupResource = new Map<string, CustomResource>();
  private readonly byCrdName = new Map<string, CustomResource>();
  private list: readonly ResourceInfo[] = [];
  private gen = 0;
  private readonly listeners = new Set<() => void>();

  get generation(): number {
    return this.gen;
  }

  find(group: string, resource: string): CustomResource | undefined {
    return this.byGroupResource.get(`${group}/${resource}`);
  }

  byName(crdName: string): CustomResource | undefined {
    return this.byCrdName.get(crdName);
  }

  all(): readonly ResourceInfo[] {
    return this.list;
  }

  customResources(): CustomResource[] {
    return [...this.byCrdName.values()];
  }

  /** serve `cr` under its CRD's name (replacing what that CRD served before), or stop serving it */
  set(crdName: string, cr: CustomResource | undefined): void {
    const before = this.byCrdName.get(crdName);
    if (before) {
      this.byGroupResource.delete(`${before.ri.group}/${before.ri.resource}`);
      this.byCrdName.delete(crdName);
    }
    if (cr) {
      this.byCrdName.set(crdName, cr);
      this.byGroupResource.set(`${cr.ri.group}/${cr.ri.resource}`, cr);
    }
    if (!before && !cr) return;
    this.list = [...this.byCrdName.values()].map((c) => c.ri);
    this.gen++;
    for (const l of this.listeners) l();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** make findResource and servedResources see these resources (one apiserver per process) */
  install(): void {
    setCustomResourceSource({
      find: (group, resource) => this.find(group, resource)?.ri,
      all: () => this.list,
    });
  }
}

/** the process's served custom resources: the apiserver's registry, discovery, OpenAPI and printers share it */
export const servedCustomResources = new ServedCustomResources();
