// CI guard: the committed generated files are exactly what scripts/gen-api.mjs makes from api/upstream/.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generate } from '../../../scripts/gen-api.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('generated object model', () => {
  const files = generate(root);

  it('makes definitions.json, openapi-components.json and patch-meta.json', () => {
    expect([...files.keys()].sort()).toEqual([
      'src/api/schema/generated/definitions.json',
      'src/api/schema/generated/openapi-components.json',
      'src/api/schema/generated/patch-meta.json',
    ]);
  });

  for (const [path, content] of files) {
    it(`${path} is what \`npm run gen:api\` makes (run it after changing api/upstream or the generator)`, () => {
      const committed = readFileSync(join(root, path), 'utf8');
      // a boolean, not a string diff: the files are large; the message says what to do
      expect(committed === content, `${path} differs from the generator's output: run npm run gen:api`).toBe(
        true,
      );
    });
  }
});
