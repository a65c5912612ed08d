// What connect-login loads before it runs a command (issue #22): status, and token with a fresh
// token, read the keychain only, so their start must not load the protocol library (openid-client,
// oauth4webapi, jose). The graph of static imports is walked in the built files, as Node loads them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from './support/cli.js';

/** Every file and package a module loads before it runs (static imports and re-exports; `import type` is gone by then). */
function staticGraph(entry: string): Map<string, string> {
  const loaded = new Map<string, string>();
  const visit = (file: string, from: string) => {
    if (loaded.has(file)) return;
    loaded.set(file, from);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s+(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
      const spec = m[1] as string;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec), file);
      else if (!spec.startsWith('node:')) loaded.set(`package ${spec}`, file);
    }
  };
  visit(entry, '(start)');
  return loaded;
}

describe('what the CLI loads to start', () => {
  test('status and a fresh token load no protocol library: it loads when a command talks to the provider', () => {
    const graph = staticGraph(join(ROOT, 'dist/src/cli/main.js'));
    const packages = [...graph.keys()].filter((k) => k.startsWith('package '));
    assert.deepEqual(packages, [], `loaded by ${packages.map((p) => relative(ROOT, graph.get(p) as string)).join(', ')}`);
    assert.ok(graph.size > 15 && graph.size < 40, `${graph.size} modules`);
    // The keychain's library is loaded by the keychain code itself, at its first call.
    assert.ok(![...graph.keys()].some((k) => k.includes('provider/discovery') || k.includes('steps/refresh.js')));
  });

  test('the walk sees a protocol import where there is one (it is not blind)', () => {
    const graph = staticGraph(join(ROOT, 'dist/src/steps/refresh.js'));
    assert.ok(graph.has('package openid-client'));
  });
});

describe('the bundled executable (what package.json\'s bin runs)', () => {
  const dir = join(ROOT, 'dist/src/bundle');
  const entry = join(dir, 'connect-login.js');
  /** The static graph of the entry and of the chunk it imports to run a command (main). */
  const startGraph = () => {
    const text = readFileSync(entry, 'utf8');
    const main = /import\(["'](\.\/main-[A-Z0-9]+\.js)["']\)/.exec(text)?.[1];
    assert.ok(main, 'the entry imports the CLI chunk');
    return new Map([...staticGraph(entry), ...staticGraph(resolve(dir, main))]);
  };

  test('status and a fresh token load no protocol library and no native module, from a handful of files', () => {
    const graph = startGraph();
    const packages = [...graph.keys()].filter((k) => k.startsWith('package '));
    assert.deepEqual(packages, [], `loaded by ${packages.map((p) => relative(ROOT, graph.get(p) as string)).join(', ')}`);
    // Bundling is the point: the unbundled CLI loads over 25 modules for the same start.
    assert.ok(graph.size <= 16, `${graph.size} files: ${[...graph.keys()].map((k) => relative(dir, k)).join(' ')}`);
  });

  test('it runs from where it is built: --version reads package.json and identity.json', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, [entry, '--version'], { encoding: 'utf8' });
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
    assert.match(out, new RegExp(`^\\S+ ${pkg.version.replace(/\./g, '\\.')}\\n$`));
    assert.deepEqual(Object.values(pkg.bin), ['dist/src/bundle/connect-login.js']);
  });
});
