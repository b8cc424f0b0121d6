import { defineConfig } from 'vitest/config';

// Unit tests sit next to the code they test (src/**/*.test.ts) and need no sockets;
// integration and end-to-end tests live in test/ and start real processes from dist/.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          // no sockets, but some build whole documents (OpenAPI): a loaded CI machine must not time them out
          testTimeout: 30_000,
          // vitest's default in `run` is one worker fewer than the cores: one on a 2-core machine, where the unit
          // tests took 214 s with the machine ~65 % busy and 132 s with two (measured)
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', 'test/docker/**', 'test/chaos/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Each file starts its own processes on its own ports; two at a time fits 2 cores.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'e2e',
          // whole clusters from `kubemu up`: node N is 127.0.1.N and pods are 127.244.N.x in every cluster,
          // so in one network namespace these files run one at a time; `npm test` (scripts/test.mjs) runs
          // several at once, each in a network namespace of its own
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          // `docker compose up` on a Docker engine of the test's own (installed when missing): after the rest
          include: ['test/docker/**/*.test.ts'],
          name: 'docker',
          testTimeout: 300_000,
          hookTimeout: 900_000,
          fileParallelism: false,
          maxWorkers: 1,
          sequence: { groupOrder: 3 },
        },
      },
      {
        test: {
          // `kubemu chaos` against a whole cluster in each mode (pm2 on the loopback and the netns network, then
          // compose): last, one file at a time
          include: ['test/chaos/**/*.test.ts'],
          name: 'chaos',
          testTimeout: 300_000,
          hookTimeout: 900_000,
          fileParallelism: false,
          maxWorkers: 1,
          sequence: { groupOrder: 4 },
        },
      },
    ],
  },
});
