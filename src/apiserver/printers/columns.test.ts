// Column descriptions come from the 1.33 spec (definitions.json), as upstream's come from the types' SwaggerDoc().
import { describe, expect, it } from 'vitest';
import { column, doc } from './columns.js';

describe('column descriptions', () => {
  it('are the field descriptions of the spec, for home-package and per-group names alike', () => {
    expect(doc('meta/v1.ObjectMeta', 'name').text()).toMatch(/^Name must be unique within a namespace/);
    expect(doc('core/v1.ObjectMeta', 'name').text()).toBe(doc('meta/v1.ObjectMeta', 'name').text());
    expect(doc('apps/v1.PodSpec', 'nodeName').text()).toBe(doc('core/v1.PodSpec', 'nodeName').text());
    expect(doc('apps/v1.DeploymentStatus', 'availableReplicas').text()).toBe(
      'Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.',
    );
    expect(doc('batch/v1.JobStatus', 'succeeded').text()).toMatch(/pods which reached phase Succeeded/);
    expect(doc('core/v1.PodSpec', 'noSuchField').text()).toBe('');
  });

  it('are resolved lazily and serialized like plain strings', () => {
    const col = column('Node', 'string', doc('core/v1.PodSpec', 'nodeName'), { priority: 1 });
    const json = JSON.parse(JSON.stringify(col)) as Record<string, unknown>;
    expect(json).toEqual({
      name: 'Node',
      type: 'string',
      format: '',
      description: doc('core/v1.PodSpec', 'nodeName').text(),
      priority: 1,
    });
    expect(column('Images', 'string', 'Images referenced.').description).toBe('Images referenced.');
  });
});
