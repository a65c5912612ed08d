// `npm run bench` until the benchmark issue lands: says so, and writes an empty result file.
import { mkdirSync, writeFileSync } from 'node:fs';

mkdirSync('bench', { recursive: true });
const result = { date: new Date().toISOString(), node: process.version, figures: {}, note: 'benchmarks not written yet' };
writeFileSync('bench/results.json', `${JSON.stringify(result, null, 2)}\n`);
console.log('No benchmarks yet: they arrive with the benchmark issue. Wrote bench/results.json.');
