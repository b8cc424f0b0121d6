// The APIService table, as kube-aggregator's pkg/registry/apiservice/etcd ConvertToTable: NAME, SERVICE
// (`Local` or namespace/name), AVAILABLE (`True`, or the status with its reason: `False (ServiceNotFound)`), AGE.
import type { APIService } from '../../api/validation/apiregistration.js';
import { ageColumn, column, nameColumn } from './columns.js';
import { objectAge as age, objectName as name, printer } from './printer.js';

export const apiServicePrinter = printer<APIService>(
  [
    nameColumn(),
    column('Service', 'string', 'The reference to the service that hosts this API endpoint.'),
    column('Available', 'string', 'Whether this service is available.'),
    ageColumn(),
  ],
  (svc, ctx) => {
    const ref = svc.spec?.service;
    const service = ref ? `${ref.namespace ?? ''}/${ref.name ?? ''}` : 'Local';
    const available = (svc.status?.conditions ?? []).find((c) => c.type === 'Available');
    let status = 'Unknown';
    if (available?.status === 'True') status = 'True';
    else if (available?.reason) status = `${available.status ?? ''} (${available.reason})`;
    else if (available) status = available.status ?? '';
    return [name(svc), service, status, age(svc, ctx)];
  },
);
