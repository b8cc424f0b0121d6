// The Kubernetes release kubemu serves (its API is generated from that release's spec in api/upstream/), which
// /version and the kubelets report.
export const KUBE_MAJOR = '1';
export const KUBE_MINOR = '33';
/** `+kubemu` is build metadata (as k3s's `+k3s1`): semver-equal to v1.33.0, unlike a `-kubemu` pre-release */
export const KUBE_GIT_VERSION = `v${KUBE_MAJOR}.${KUBE_MINOR}.0+kubemu`;
