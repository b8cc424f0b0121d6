// The Website custom resource as the controller and the webhook see it (the CRD is manifests/crd.yaml).
import type { KubernetesObject } from '@kubernetes/client-node';

export const GROUP = 'example.com';
export const VERSION = 'v1';
export const PLURAL = 'websites';

export interface WebsiteSpec {
  replicas?: number;
  message: string;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface WebsiteStatus {
  observedGeneration?: number;
  readyReplicas?: number;
  conditions?: Condition[];
}

export interface Website extends KubernetesObject {
  spec: WebsiteSpec;
  status?: WebsiteStatus;
}
