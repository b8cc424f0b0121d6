// The big ConfigMap of issue #17 item 3 as a user writes it: 30,000 keys of 34 bytes (1,020,000 bytes of data,
// just under the 1 MiB a ConfigMap may hold), as a YAML manifest. Shared by the big-objects bench and its tests.

export const BIG_CONFIGMAP_KEYS = 30_000;

export const bigKey = (i: number): string => `key-${String(i).padStart(6, '0')}`;
export const bigValue = (i: number): string => `v${String(i).padStart(6, '0')}-abcdefghijklmnop`;

/**
 * The manifest: key `change` gets the value `changed`; `comment` pads every line (`# comment`: a 2 MiB body of
 * the same data); `repeat` appends that key once more at the end (a duplicate key).
 */
export function bigConfigMapYaml(
  name: string,
  opts: { comment?: string; repeat?: number; change?: number } = {},
): string {
  const lines = [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    `  name: ${name}`,
    '  namespace: default',
    'data:',
  ];
  const pad = opts.comment ? `  # ${opts.comment}` : '';
  for (let i = 0; i < BIG_CONFIGMAP_KEYS; i++)
    lines.push(`  ${bigKey(i)}: ${i === opts.change ? 'changed' : bigValue(i)}${pad}`);
  if (opts.repeat !== undefined) lines.push(`  ${bigKey(opts.repeat)}: again`);
  return `${lines.join('\n')}\n`;
}
