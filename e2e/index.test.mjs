// The index page from the real server in real Chromium: content, language switch, footer version,
// keyboard order, a strict CSP that the real Trunk build satisfies, and screenshots.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { capture, expectAccessible, freePort, launchBrowser, startServer, watchForProblems } from './harness.mjs';

let server;
let browser;
let noHelper;

before(async () => {
  // A helper origin where nothing listens: the flow pages must say the helper is missing.
  noHelper = `http://127.0.0.1:${await freePort()}`;
  server = await startServer({ MAHPKI_HELPER_ORIGINS: noHelper });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('index page renders in Japanese, switches to English, and shows the server version', async () => {
  const page = await browser.context.newPage();
  const problems = watchForProblems(page);
  const response = await page.goto(`${server.origin}/`);
  assert.equal(response.status(), 200);
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
  assert.doesNotMatch(csp, /unsafe-inline/);

  await page.getByRole('link', { name: 'マイナンバーカードをご利用の方はこちら' }).waitFor();
  await page.getByRole('link', { name: 'スマートフォン(タブレットを含む)をご利用の方はこちら' }).waitFor();
  await page.getByRole('link', { name: 'HPKIカードで登録または変更' }).waitFor();
  await page.getByRole('link', { name: 'スマートフォン変更' }).waitFor();
  assert.equal(await page.locator('header .site-title').textContent(), 'HPKIセカンド電子証明書管理・認証プラットフォーム');

  const health = await (await page.request.get(`${server.origin}/api/health`)).json();
  await page.locator('#server-version').filter({ hasText: health.version }).waitFor();
  assert.equal(await page.locator('#server-version').textContent(), `サーバー バージョン ${health.version}`);
  await capture(page, 'index-ja');

  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('link', { name: 'Using a My Number card? Start here' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.title(), 'HPKI Second Certificate Management and Authentication Platform');
  const body = (await page.locator('body').innerText()).replace('日本語', '');
  assert.ok(!/[\u3000-\u9fff]/.test(body), `Japanese left after switching: ${body}`);
  assert.equal(await page.locator('#server-version').textContent(), `Server version ${health.version}`);
  await capture(page, 'index-en');

  // The choice survives a reload (a clinician should not have to choose again).
  await page.reload();
  await page.getByRole('link', { name: 'Using a My Number card? Start here' }).waitFor();

  assert.deepEqual(problems, []);
  await page.close();
});

test('entries route to their flow pages, deep links load from the server', async () => {
  const page = await browser.context.newPage();
  const problems = watchForProblems(page);
  await page.goto(`${server.origin}/`);
  await page.getByRole('button', { name: '日本語' }).click();
  await page.getByRole('link', { name: 'HPKIカードで登録', exact: true }).click();
  await page.waitForURL(`${server.origin}/mynumber`);
  await page.getByRole('heading', { level: 1, name: 'マイナンバーカード登録サイト' }).waitFor();
  // No helper runs: the page says so once, where to get it, and offers to check again.
  await page.getByRole('heading', { level: 2, name: 'カード読み取りソフト(mahpki-helper)に接続できません。' }).waitFor();
  await page.getByRole('button', { name: '再確認' }).waitFor();
  const download = page.getByRole('link', { name: 'カード読み取りソフト(mahpki-helper)の入手とインストール方法' });
  assert.equal(await download.getAttribute('href'), 'https://github.com/mahpki/mahpki#local-helper');
  assert.equal((await page.locator('main').textContent()).match(/に接続できません/g).length, 1);
  await capture(page, 'mynumber-helper-missing');
  await page.locator('header .site-title').click();
  await page.waitForURL(`${server.origin}/`);

  // A deep link straight from the address bar is served the app by the server.
  await page.goto(`${server.origin}/smartphone/change`);
  await page.getByRole('heading', { level: 1, name: 'スマートフォン変更' }).waitFor();
  await page.locator('section[data-step="first_code"]').waitFor();
  // Each page is its own download now (issue 14): the server sends the path's bundle, and a path
  // that is no page gets the 404 page with status 404.
  const missing = await page.goto(`${server.origin}/no-such-page`);
  assert.equal(missing.status(), 404);
  await page.getByRole('heading', { level: 1, name: 'ページが見つかりません' }).waitFor();
  // The only failed loads are the calls to the helper that is not there, the change page's
  // event stream, and the footer's health call, cut off by leaving the page (each page is a
  // full load now).
  const expected = (p) => p.includes(noHelper) || p.endsWith('net::ERR_CONNECTION_REFUSED')
    || /\/current\/events net::ERR_ABORTED$/.test(p) || /\/api\/health net::ERR_ABORTED$/.test(p)
    || p === 'console: Failed to load resource: the server responded with a status of 404 (Not Found)';
  assert.deepEqual(problems.filter((p) => !expected(p)), []);
  // Each page downloads its own bundle's wasm and no other.
  // (Resource timing, not request events: a bundle already fetched may come from the cache.)
  for (const [path, bundle] of [['/', 'home'], ['/mynumber', 'mynumber'], ['/smartphone/jma', 'smartphone'], ['/enrol', 'phone']]) {
    await page.goto(`${server.origin}${path}`);
    await page.locator('main h1').waitFor();
    const wasm = await page.evaluate(() => performance.getEntriesByType('resource')
      .map((e) => new URL(e.name).pathname).filter((p) => p.endsWith('.wasm')).map((p) => p.split('/')[1]));
    assert.deepEqual(wasm, [bundle], path);
  }
  await page.close();
});

test('keyboard users reach the skip link first and can switch language', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${server.origin}/`);
  await page.getByRole('link', { name: 'マイナンバーカードをご利用の方はこちら' }).waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'site-title');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'English');
  await page.keyboard.press('Enter');
  await page.getByRole('link', { name: 'Using a smartphone (or tablet)? Start here' }).waitFor();
  await page.close();
});

test('phone-sized screen: no horizontal scrolling, buttons large enough to tap', async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 375, height: 740 });
  await page.goto(`${server.origin}/`);
  await page.getByRole('button', { name: '日本語' }).click();
  await page.getByRole('link', { name: 'スマートフォン変更' }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  const box = await page.getByRole('link', { name: 'HPKIカードで登録または変更' }).boundingBox();
  assert.ok(box.height >= 44, `button is ${box.height}px tall`);
  await capture(page, 'index-phone-ja');
  // The header title wraps only between phrases, never inside a word (「プラットフ／ォーム」).
  for (const width of [320, 360, 375, 414]) {
    await page.setViewportSize({ width, height: 740 });
    const lines = await page.locator('header .site-title').evaluate((el) => {
      const text = el.textContent;
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      const starts = [];
      let offset = 0;
      let lastTop = null;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.length; i++) {
          const range = document.createRange();
          range.setStart(node, i);
          range.setEnd(node, i + 1);
          const top = Math.round(range.getBoundingClientRect().top);
          if (lastTop === null || top > lastTop + 2) starts.push(offset + i);
          lastTop = top;
        }
        offset += node.length;
      }
      return starts.map((s, k) => text.slice(s, starts[k + 1]));
    });
    const phrases = ['HPKIセカンド電子証明書', '管理・認証', 'プラットフォーム'];
    for (const line of lines) {
      assert.ok(phrases.some((p) => line.startsWith(p)), `at ${width}px a line starts inside a word: ${JSON.stringify(lines)}`);
    }
  }
  await page.close();
});

test('the accessibility check every screenshot runs fails on a WCAG violation', async () => {
  // The check itself, shown able to fail: an image without a text alternative and a nameless
  // button, in a page that has no language switch.
  const page = await browser.context.newPage();
  await page.setContent('<html lang="ja"><head><title>t</title></head><body><main><h1>見出し</h1>'
    + '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><button></button></main></body></html>');
  await assert.rejects(expectAccessible(page, 'violations'), (e) => {
    assert.match(e.message, /image-alt/);
    assert.match(e.message, /button-name/);
    return true;
  });
  await page.close();
});
