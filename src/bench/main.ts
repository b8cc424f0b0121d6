// `npm run bench`: runs every registered benchmark suite and reports against targets.
import './all-suites.js';
import { runBench } from './run.js';
import { registeredSuites } from './suites.js';

const code = await runBench(registeredSuites(), process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
// exit explicitly: a suite that leaks a handle must not keep the run alive after its report
process.exit(code);
