// Fuzzing the parsers an attacker or a broken provider can reach (test/fuzz/targets.ts): the saved
// corpus is replayed, then each target runs for a short while with a fresh seed. CONNECT_FUZZ_RUNS
// sets how many inputs per target (default 1000; `npm run fuzz`: 20,000); CONNECT_FUZZ_SEED replays a
// failure that printed its seed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ROOT } from './support/cli.js';
import { TARGETS } from './fuzz/targets.js';

const RUNS = Number(process.env.CONNECT_FUZZ_RUNS ?? 1000);
const SEED = process.env.CONNECT_FUZZ_SEED ? Number(process.env.CONNECT_FUZZ_SEED) : undefined;

function corpus(name: string): unknown[] {
  return JSON.parse(readFileSync(join(ROOT, 'test/fuzz/corpus', `${name}.json`), 'utf8')) as unknown[];
}

for (const target of TARGETS) {
  describe(`fuzz: ${target.name}`, () => {
    test('the saved corpus', async () => {
      const inputs = corpus(target.name);
      if (inputs.length === 0) throw new Error(`test/fuzz/corpus/${target.name}.json is empty`);
      for (const input of inputs) await target.check(input);
    });

    test(`${RUNS} generated inputs`, async () => {
      await fc.assert(
        fc.asyncProperty(target.arbitrary, async (input) => {
          await target.check(input);
        }),
        { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
      );
    });
  });
}
