// Issue 17, the first screen: before the wasm has run, the page already shows its header and a
// loading line in the page's language (a slow clinic network shows something at once), the app
// replaces them without moving the header, and no load prints the preload `integrity` warning.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, capture, startServer, watchForProblems } from './harness.mjs';

const TITLE_JA = 'HPKIセカンド電子証明書管理・認証プラットフォーム';
const TITLE_EN = 'HPKI Second Certificate Management and Authentication Platform';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A page whose wasm never arrives: what a holder sees while it is still on its way. */
async function withoutWasm() {
  const page = await browser.context.newPage();
  await page.route('**/*.wasm', (route) => route.abort());
  return page;
}

test('before the wasm runs, the page shows the header and a loading line in Japanese', async () => {
  const page = await withoutWasm();
  await page.goto(`${server.origin}/`);
  const header = page.locator('header.site-header');
  await header.waitFor();
  assert.equal(await page.locator('header .site-title').textContent(), TITLE_JA);
  await page.getByRole('status').filter({ hasText: '読み込んでいます' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'ja');
  await capture(page, 'first-frame-ja');
  await page.close();
});

test('the first frame speaks English when English was chosen before', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${server.origin}/`);
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('link', { name: 'Using a My Number card? Start here' }).waitFor();
  await page.route('**/*.wasm', (route) => route.abort());
  await page.reload();
  await page.getByRole('status').filter({ hasText: 'Loading' }).waitFor();
  assert.equal(await page.locator('header .site-title').textContent(), TITLE_EN);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.getByRole('status').textContent(), 'Loading…');
  // Back to Japanese for the other tests of this browser profile.
  await page.unroute('**/*.wasm');
  await page.reload();
  await page.getByRole('button', { name: '日本語' }).click();
  await page.getByRole('link', { name: 'マイナンバーカードをご利用の方はこちら' }).waitFor();
  await page.close();
});

test('the app replaces the first frame without moving the header, and no load warns', async () => {
  const page = await browser.context.newPage();
  const warnings = [];
  page.on('console', (m) => { if (/integrity|preload/i.test(m.text())) warnings.push(`${m.type()}: ${m.text()}`); });
  // The first frame's header, measured with the wasm held back, then the app's.
  await page.route('**/*.wasm', (route) => route.abort());
  await page.goto(`${server.origin}/`);
  const box = async () => page.locator('header.site-header').boundingBox();
  await page.locator('header.site-header').waitFor();
  const first = await box();
  await page.unroute('**/*.wasm');
  const problems = watchForProblems(page);
  await page.reload();
  await page.getByRole('link', { name: 'マイナンバーカードをご利用の方はこちら' }).waitFor();
  assert.deepEqual(await box(), first);
  assert.equal(await page.locator('header.site-header').count(), 1);
  assert.equal(await page.getByRole('status').filter({ hasText: '読み込んでいます' }).count(), 0);
  // Chromium prints the preload warning a moment after load: one more load and a settled page.
  await page.reload({ waitUntil: 'networkidle' });
  await page.getByRole('link', { name: 'マイナンバーカードをご利用の方はこちら' }).waitFor();
  assert.deepEqual(warnings, []);
  assert.deepEqual(problems, []);
  await page.close();
});
