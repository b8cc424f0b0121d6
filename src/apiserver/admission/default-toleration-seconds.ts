// DefaultTolerationSeconds admission (upstream plugin/pkg/admission/defaulttolerationseconds): a pod tolerates a
// not-ready or unreachable node for a while before it is evicted. Runs on create and on update, as upstream's, so
// a PUT of the manifest a pod was created from does not read as removing the tolerations it got.
import { isCoreResource, type AdmissionAttributes, type AdmissionPlugin } from './interface.js';

interface Toleration {
  key?: string;
  operator?: string;
  effect?: string;
  tolerationSeconds?: number;
}

const TAINTS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'];

export class DefaultTolerationSeconds implements AdmissionPlugin {
  readonly name = 'DefaultTolerationSeconds';

  constructor(private readonly seconds: number) {}

  admit(a: AdmissionAttributes): void {
    if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
    if (a.subresource || !isCoreResource(a, 'pods') || !a.object) return;
    const spec = (a.object['spec'] ??= {}) as { tolerations?: Toleration[] };
    const tolerations = (spec.tolerations ??= []);
    for (const key of TAINTS) {
      const tolerated = tolerations.some(
        (tol) => (tol.key === key || !tol.key) && (!tol.effect || tol.effect === 'NoExecute'),
      );
      if (!tolerated)
        tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: this.seconds });
    }
  }
}
