// kubemu's cloud load balancer: the service controller and its L4 data plane.
export {
  LoadBalancerController,
  DEFAULT_POOL,
  LB_CLEANUP_FINALIZER,
  type LoadBalancerControllerOptions,
} from './service-controller.js';
export { LoadBalancerForwarder, type ForwardedPort } from './forwarder.js';
export { IpPool } from './ip-pool.js';
