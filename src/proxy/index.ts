// kube-proxy: user-space L4 forwarding of ClusterIPs and NodePorts to Service endpoints.
export { Proxier, type ListenerState, type ProxierOptions } from './proxier.js';
export { EndpointPicker } from './endpoint-picker.js';
export { computeListeners, type ListenerSpec, type ProxyEndpoint } from './rules.js';
