// The yaml package, loaded on first use. Loading it costs ~60 ms of CPU, which each of a cluster's dozen component
// processes paid at start although most never parse YAML (their kubeconfigs are JSON, API bodies mostly JSON).
import { createRequire } from 'node:module';

type Yaml = typeof import('yaml');

let loaded: Yaml | undefined;

/** the yaml package (its CommonJS build, the one `import 'yaml'` gives under Node too), loaded once */
export function yaml(): Yaml {
  return (loaded ??= createRequire(import.meta.url)('yaml') as Yaml);
}
