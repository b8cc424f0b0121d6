// @peculiar/x509 behind a module of ours, for pki.ts to load with import() on the first certificate it makes. Imported
// statically here, the bundler takes the library and its ASN.1 packages into one chunk (an `import()` of the CommonJS
// package itself must stay a plain node_modules import: scripts/bundle.mjs): one file to compile instead of Node
// resolving, lexing and compiling some 60 CommonJS files, which made `kubemu up`'s first start (the CA and leaves
// made before the apiserver starts) wait ~1 s of CPU on a loaded machine.
// The shim comes first: tsyringe (which the library loads) needs Reflect's metadata functions when it loads.
import './reflect-metadata-shim.js';
import * as x509 from '@peculiar/x509';

export { x509 };
