// Reaching an apiserver on the host's 127.0.0.1 from inside a network namespace (namespaces share no loopback):
// a unix socket (the filesystem is shared) served here, and a forwarder in the namespace listening on its own
// 127.0.0.1 at the same port, so the kubeconfig's https://127.0.0.1:PORT works unchanged in there.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface NetnsBridge {
  close(): Promise<void>;
}

function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b).pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
}

const FORWARDER = `const n=require('net');n.createServer(c=>{const u=n.connect(process.argv[2]);c.pipe(u).pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy())}).listen(+process.argv[1],'127.0.0.1',()=>console.log('listening'))`;

/** `netns` must exist with `lo` up; `socketPath` is made and removed here */
export async function bridgeIntoNetns(netns: string, port: number, socketPath: string): Promise<NetnsBridge> {
  rmSync(socketPath, { force: true });
  const server: Server = createServer((c) => pipeBoth(c, connect(port, '127.0.0.1')));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  const child: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', netns, process.execPath, '-e', FORWARDER, String(port), socketPath],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
    }
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(socketPath, { force: true });
  };
  const deadline = Date.now() + 15_000;
  while (!out.includes('listening')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await close();
      throw new Error(`the apiserver forwarder in ${netns} did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { close };
}
