// The scheduler component: binds pending pods to nodes as upstream's kube-scheduler does.
export { Scheduler, DEFAULT_SCHEDULER_NAME, type SchedulerOptions } from './scheduler.js';
export { SchedulerCache, NodeInfo } from './cache.js';
export { scheduleOne, fitErrorMessage, ERR_NO_NODES_AVAILABLE, type ScheduleResult } from './schedule-one.js';
export { podRequests, nonZeroRequests, quantityAmount, resourceAmounts } from './resources.js';
