// The real Electron app (main + preload + renderer) against the real core and provider. These tests
// need the Electron binary; where it is missing they are skipped and say why (never reported as passed).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { _electron as electron, type ElectronApplication } from 'playwright-core';
import { startTestProvider, type TestProvider } from './provider/provider.js';
import { ROOT, browserUser, runCli, testProfile } from './support/cli.js';
import { NO_ELECTRON, electronBinary } from './support/electron.js';
import { IDENTITY } from '../src/config/identity.js';

const binary = electronBinary();

const skip = binary ? false : NO_ELECTRON;

describe('Electron app', () => {
  let provider: TestProvider;
  let app: ElectronApplication;
  const profile = testProfile('electron');
  const user = browserUser({ user: 'alice' });

  before(async () => {
    if (!binary) return;
    provider = await startTestProvider();
    const config = join(mkdtempSync(join(tmpdir(), 'connect-app-')), 'connect.config.json');
    writeFileSync(config, JSON.stringify({ issuer: provider.issuer, clientId: provider.publicClientId, profile }));
    app = await electron.launch({
      executablePath: binary as string,
      args: [ROOT, '--no-sandbox'],
      env: { ...process.env, CONNECT_CONFIG: config, BROWSER: user.BROWSER },
    });
  });

  after(async () => {
    if (!binary) return;
    await app?.close();
    await runCli(['logout', '--profile', profile]);
    await provider?.close();
  });

  test('the window is locked down: isolated, no Node, only window.connect', { skip }, async () => {
    const page = await app.firstWindow();
    assert.equal(await page.title(), IDENTITY.productName);
    type Page = { connect: object; require?: unknown; process?: unknown; open(url: string): unknown };
    const { CHANNELS } = await import('../src/app/app-api.js');
    assert.deepEqual(await page.evaluate(() => Object.keys((globalThis as unknown as Page).connect).sort()), Object.keys(CHANNELS).sort());
    // No Node in the page (nodeIntegration off, context isolated): no require, no process.
    assert.equal(await page.evaluate(() => typeof (globalThis as unknown as Page).require), 'undefined');
    assert.equal(await page.evaluate(() => typeof (globalThis as unknown as Page).process), 'undefined');
    // The bridged API is a frozen copy (contextBridge), not the preload's object.
    assert.equal(await page.evaluate(() => Object.isFrozen((globalThis as unknown as Page).connect)), true);
    // window.open and navigation away are refused.
    assert.equal(await page.evaluate(() => (globalThis as unknown as Page).open('https://example.com')), null);
  });

  test('sign in through the system browser, see the claims, sign out', { skip }, async () => {
    const page = await app.firstWindow();
    await page.click('#sign-in');
    await page.waitForSelector('#signed-in:not([hidden])', { timeout: 60_000 });
    assert.equal(await page.textContent('#name'), 'Alice Example');
    assert.match((await page.textContent('#claims')) ?? '', /alice@example\.com/);
    assert.equal((await user.report()).heading, 'You are signed in');
    await page.click('#sign-out');
    await page.waitForSelector('#signed-out:not([hidden])');
  });
});
