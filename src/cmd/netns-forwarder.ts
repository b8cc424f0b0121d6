#!/usr/bin/env node
// The forwarder inside a cluster's network sandbox; started by the host-side publisher (src/netns/publisher.ts)
// with an IPC channel, never by hand.
import { runForwarder } from '../netns/forwarder.js';
import { createLogger } from '../util/logger.js';

const log = createLogger('netns-forwarder');
if (!process.send) {
  log.fatal('netns-forwarder runs only as the child of a publisher (it needs an IPC channel)');
  process.exit(2);
}
runForwarder(process, log, () => process.exit(0));
