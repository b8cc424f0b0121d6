// kube-proxy's nftables mode (upstream pkg/proxy/nftables): kernel forwarding inside a node's network namespace.
export { NftProxier, type NftProxierOptions } from './nft-proxier.js';
export { NftRunner, nftablesUnavailable } from './nft-host.js';
export { NftRuleGenerator, KUBE_PROXY_TABLE, type GeneratorConfig } from './generator.js';
export { servicePorts, type ServicePortInfo } from './service-ports.js';
