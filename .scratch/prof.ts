import { openRuntime } from '../src/runtime/runtime.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { chmodSync, mkdtempSync } from 'node:fs';
const dataDir = mkdtempSync('/tmp/corral-prof-'); chmodSync(dataDir, 0o711);
const rt = openRuntime({ dataDir });
let t = performance.now();
const lap = (l: string) => { const n = performance.now(); console.log(l.padEnd(20), (n - t).toFixed(1)); t = n; };
for (let i = 0; i < 5; i++) writeFileAtomic(`${dataDir}/x`, 'hello'); lap('5 atomic writes');
for (let k = 0; k < 3; k++) {
await rt.create('p'+k, { command: ['sh', '-c', 'echo ready; exec sleep 600'], limits: { memory: '64Mi', pids: 32, cpus: 1 } }); lap('create');
await rt.start('p'+k); lap('start');
await rt.stop('p'+k); lap('stop');
await rt.remove('p'+k); lap('remove');
}
