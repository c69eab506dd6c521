// A stand-in for @helios-project/renderer's RenderOrchestrator, for the
// warm renderer's tests: what it does depends on the input's name.
import fs from 'node:fs';
import { spawn } from 'node:child_process';

const kept = [];

export const RenderOrchestrator = {
  async render(url, outputPath, options) {
    const name = url.slice(url.lastIndexOf('/') + 1);
    console.log(`stand-in rendering ${name}`);
    const record = () => fs.writeFileSync(outputPath, JSON.stringify({ url, options, cwd: process.cwd(), tmpdir: process.env.TMPDIR, pid: process.pid }));
    switch (name) {
      case 'ok.html':
        record();
        return;
      case 'fail.html':
        throw new Error('boom');
      case 'hang.html':
        spawn('sleep', ['600'], { stdio: 'ignore' });
        return new Promise(() => {});
      case 'block.html': // says so in its output, then blocks its thread: nothing but a signal ends it
        fs.writeFileSync(outputPath, 'blocked');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600000);
        return;
      case 'stale.html': // fails, and leaves a rejection for later
        setTimeout(() => Promise.reject(new Error('stale from the previous chunk')), 200);
        throw new Error('stale');
      case 'bigline.html': // a line longer than the worker reads
        console.log('x'.repeat(20 << 20));
        record();
        return;
      case 'exitlater.html': // renders, then exits between chunks
        record();
        setTimeout(() => process.exit(0), 100);
        return;
      case 'orphan.html': // leaves an orphan that ends on its own
        spawn('sh', ['-c', '(sleep 0.1 &)'], { stdio: 'ignore' });
        record();
        return;
      case 'crash.html':
        process.exit(3);
      case 'grow.html':
        kept.push(Buffer.alloc(200 << 20, 1));
        record();
        return;
      case 'detached.html':
        spawn('sleep', ['600'], { stdio: 'ignore', detached: true }).unref();
        record();
        return;
    }
    throw new Error(`no such stand-in case ${name}`);
  },
};
