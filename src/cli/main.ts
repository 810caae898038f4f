#!/usr/bin/env -S node --
// The "--" stops Node 20 from taking corral's own --env-file option as its own (it scans all of argv).
import { main } from './program.js';

// A reader that goes away (`corral trace -f | head`) ends corral as SIGPIPE ends other tools,
// status 128+13, instead of an unhandled EPIPE and its stack trace. Nothing is left half-done:
// by then corral only writes what it reads or reports, and sandboxes die with their parent.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(141);
  });
}

// Otherwise the only place that ends the process: everything else returns a status.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`corral: internal error: ${String(err)}\n`);
    process.exitCode = 125;
  },
);
