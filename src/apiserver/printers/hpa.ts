// HorizontalPodAutoscaler TARGETS (upstream's formatHPAMetrics), and the autoscaling/v1 → v2 view the printer needs.
import type { MetricSpec, MetricStatus, HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { KubeObject } from '../../api/request.js';

const q = (v: string | number | undefined): string => (v === undefined ? '' : String(v));

/** `cpu: 85%/50%`, `cpu: <unknown>/50%`, `memory: 100Mi/200Mi`, at most two then `+ N more...`, `<none>` without metrics */
export function formatHPAMetrics(
  specs: MetricSpec[] | undefined,
  statuses: MetricStatus[] | undefined,
): string {
  if (!specs || specs.length === 0) return '<none>';
  const list: string[] = [];
  const max = 2;
  const current = statuses ?? [];
  specs.forEach((spec, i) => {
    const status = current[i];
    switch (spec.type) {
      case 'External': {
        const target = spec.external?.target;
        if (target?.averageValue !== undefined) {
          const cur = status?.external?.current?.averageValue;
          list.push(`${cur !== undefined ? q(cur) : '<unknown>'}/${q(target.averageValue)} (avg)`);
        } else {
          const cur = status?.external ? q(status.external.current?.value) : '<unknown>';
          list.push(`${cur}/${q(target?.value)}`);
        }
        break;
      }
      case 'Pods': {
        const cur = status?.pods ? q(status.pods.current?.averageValue) : '<unknown>';
        list.push(`${cur}/${q(spec.pods?.target?.averageValue)}`);
        break;
      }
      case 'Object': {
        const target = spec.object?.target;
        if (target?.averageValue !== undefined) {
          const cur = status?.object?.current?.averageValue;
          list.push(`${cur !== undefined ? q(cur) : '<unknown>'}/${q(target.averageValue)} (avg)`);
        } else {
          const cur = status?.object ? q(status.object.current?.value) : '<unknown>';
          list.push(`${cur}/${q(target?.value)}`);
        }
        break;
      }
      case 'Resource':
      case 'ContainerResource': {
        const src = spec.type === 'Resource' ? spec.resource : spec.containerResource;
        const cur = spec.type === 'Resource' ? status?.resource : status?.containerResource;
        const resourceName = src?.name ?? '';
        if (src?.target?.averageValue !== undefined) {
          const value = cur ? q(cur.current?.averageValue) : '<unknown>';
          list.push(`${resourceName}: ${value}/${q(src.target.averageValue)}`);
        } else {
          const utilization = cur?.current?.averageUtilization;
          const value = utilization !== undefined ? `${utilization}%` : '<unknown>';
          const target =
            src?.target?.averageUtilization !== undefined ? `${src.target.averageUtilization}%` : '<auto>';
          list.push(`${resourceName}: ${value}/${target}`);
        }
        break;
      }
      default:
        list.push('<unknown type>');
    }
  });
  const count = list.length;
  if (count > max) return `${list.slice(0, max).join(', ')} + ${count - max} more...`;
  return list.join(', ');
}

/** An autoscaling/v1 HPA seen as v2 (targetCPUUtilizationPercentage becomes a cpu Resource metric); v2 passes through. */
export function toHPAv2(obj: KubeObject): HorizontalPodAutoscaler {
  const hpa = obj as HorizontalPodAutoscaler & {
    spec?: { targetCPUUtilizationPercentage?: number };
    status?: { currentCPUUtilizationPercentage?: number };
  };
  if (obj.apiVersion !== 'autoscaling/v1') return hpa;
  const target = hpa.spec?.targetCPUUtilizationPercentage;
  const currentUtilization = hpa.status?.currentCPUUtilizationPercentage;
  return {
    ...hpa,
    spec: {
      ...hpa.spec!,
      metrics:
        target !== undefined
          ? [
              {
                type: 'Resource',
                resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } },
              },
            ]
          : [],
    },
    status: {
      ...hpa.status,
      currentMetrics:
        currentUtilization !== undefined
          ? [
              {
                type: 'Resource',
                resource: { name: 'cpu', current: { averageUtilization: currentUtilization } },
              },
            ]
          : [],
    },
  } as HorizontalPodAutoscaler;
}
