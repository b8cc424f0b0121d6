// kubemu's ingress gateway: the controller (watches the API) and the L7 data plane it feeds.
export { IngressController, type IngressControllerOptions } from './controller.js';
export { IngressGateway, type GatewayOptions, type GatewaySnapshot, type ListenAddress } from './gateway.js';
export { IngressProxy, forwardedHeaders } from './proxy.js';
export { RoutingTable, CLASS_NAME, CONTROLLER_NAME, type Backend, type Route } from './routing-table.js';
export { FAKE_CERT_CN, generateDefaultCertificate } from './certificates.js';
