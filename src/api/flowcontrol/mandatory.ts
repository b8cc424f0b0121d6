// API Priority and Fairness' mandatory configuration objects (upstream's
// k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap, mirrored in pkg/apis/flowcontrol/internalbootstrap): the `exempt`
// and `catch-all` priority levels and flow schemas. The apiserver creates them at start; validation holds their spec
// fixed (the exempt priority level's `spec.exempt` excepted).
import type { KubeObject } from '../request.js';

const AUTOUPDATE = { 'apf.kubernetes.io/autoupdate-spec': 'true' };
const GROUP = 'flowcontrol.apiserver.k8s.io';

const everything = {
  resourceRules: [
    { verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true },
  ],
  nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
};
const groups = (...names: string[]) => names.map((name) => ({ kind: 'Group', group: { name } }));

export const MANDATORY_PRIORITY_LEVELS: KubeObject[] = [
  {
    apiVersion: `${GROUP}/v1`,
    kind: 'PriorityLevelConfiguration',
    metadata: { name: 'exempt', annotations: AUTOUPDATE },
    spec: { type: 'Exempt', exempt: { nominalConcurrencyShares: 0, lendablePercent: 0 } },
  },
  {
    apiVersion: `${GROUP}/v1`,
    kind: 'PriorityLevelConfiguration',
    metadata: { name: 'catch-all', annotations: AUTOUPDATE },
    spec: {
      type: 'Limited',
      limited: { nominalConcurrencyShares: 5, lendablePercent: 0, limitResponse: { type: 'Reject' } },
    },
  },
];

export const MANDATORY_FLOW_SCHEMAS: KubeObject[] = [
  {
    apiVersion: `${GROUP}/v1`,
    kind: 'FlowSchema',
    metadata: { name: 'exempt', annotations: AUTOUPDATE },
    spec: {
      priorityLevelConfiguration: { name: 'exempt' },
      matchingPrecedence: 1,
      rules: [{ subjects: groups('system:masters'), ...everything }],
    },
  },
  {
    apiVersion: `${GROUP}/v1`,
    kind: 'FlowSchema',
    metadata: { name: 'catch-all', annotations: AUTOUPDATE },
    spec: {
      priorityLevelConfiguration: { name: 'catch-all' },
      matchingPrecedence: 10000,
      distinguisherMethod: { type: 'ByUser' },
      rules: [{ subjects: groups('system:unauthenticated', 'system:authenticated'), ...everything }],
    },
  },
];

/** the mandatory object of that name, if any */
export const mandatoryFlowSchema = (name: string | undefined): KubeObject | undefined =>
  MANDATORY_FLOW_SCHEMAS.find((o) => o.metadata?.name === name);
export const mandatoryPriorityLevel = (name: string | undefined): KubeObject | undefined =>
  MANDATORY_PRIORITY_LEVELS.find((o) => o.metadata?.name === name);
