#!/usr/bin/env -S node --
// The "--" stops Node 20 from taking corral's own --env-file option as its own (it scans all of argv).
import { main } from './program.js';

// The only place that exits the process: everything else returns a status.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`corral: internal error: ${String(err)}\n`);
    process.exitCode = 125;
  },
);
