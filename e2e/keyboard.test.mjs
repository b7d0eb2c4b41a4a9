// 別紙1 with the keyboard only (issue 16): Tab, Enter and Space move through the real app, the
// helper's own PIN window is part of the walk (the PIN is typed there, never in the page), and no
// element of the app is clicked or focused by the test. At each step the focus is on the new
// step's heading, the flow's live region has said the step's status, axe finds nothing (WCAG 2.1
// AA), and a code's countdown is outside every live region.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  expectAccessible, launchBrowser, pinWindow, screen, screenshotPath, startPlatform, until, watchForProblems,
} from './harness.mjs';

/** Records every text the flow's live region (#flow-status) takes, and how many distinct region
 * elements there were: a region inserted with its words is often not read, so it must stay. Runs
 * in every page of the context before the app's own code. */
function recordLiveRegion() {
  const said = [];
  const regions = new Set();
  window.__liveRegion = { said, regions: () => regions.size };
  new MutationObserver(() => {
    const el = document.getElementById('flow-status');
    if (!el) return;
    regions.add(el);
    const text = el.textContent.trim();
    if (text && said[said.length - 1] !== text) said.push(text);
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

/** What the focused element is: its id, tag, role, name-ish text and the link it goes to. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    return {
      id: el.id,
      tag: el.tagName.toLowerCase(),
      text: (el.textContent ?? '').trim(),
      href: el.getAttribute('href'),
    };
  });
}

/** Presses Tab (Shift+Tab if `back`) until `want(focused)` holds; fails after 40 presses. */
async function tabTo(page, what, want, { back = false } = {}) {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const f = await focused(page);
    if (f && want(f)) return f;
  }
  throw new Error(`Tab never reached ${what}; focus is on ${JSON.stringify(await focused(page))}`);
}

const button = (label) => (f) => f.tag === 'button' && f.text === label;
const link = (label) => (f) => f.tag === 'a' && f.text === label;

/** Waits for step `step`, then checks the focus is on its heading (with `heading` as its text),
 * the live region has said `status` (if given), and axe finds no violation. */
async function atStep(page, step, heading, status, shot) {
  await screen(page, step);
  await until(async () => (await focused(page))?.id === 'step-title',
    `the focus on ${step}'s heading (it is on ${JSON.stringify(await focused(page))})`, 10_000);
  const f = await focused(page);
  assert.equal(f.tag, 'h2');
  assert.equal(f.text, heading, `${step}: the focused heading`);
  // The heading is the step's: inside the flow's section that names the step.
  assert.ok(await page.evaluate((s) => document.activeElement.closest(`section[data-step="${s}"]`) !== null, step));
  const region = page.locator('#flow-status');
  assert.equal(await region.getAttribute('role'), 'status');
  assert.equal(await region.getAttribute('aria-live'), 'polite');
  if (status) {
    await until(async () => (await page.evaluate(() => window.__liveRegion.said)).some((s) => s.includes(status)),
      `the live region to say ${JSON.stringify(status)} on ${step}`, 10_000);
  }
  // Nothing is aria-busy: a screen reader may hold back a busy element's live news.
  assert.equal(await page.locator('[aria-busy="true"]').count(), 0);
  await page.screenshot({ path: screenshotPath(`keyboard-${shot}`), fullPage: true });
  // axe on the step as shown (both languages are the mouse walks' part: switching here would
  // click and move the focus).
  await expectAccessible(page, `keyboard-${shot}`, { otherLanguage: false });
}

/** Types the PIN in the helper's window with the keyboard and submits it with Enter. The window
 * gives its PIN field the focus itself. */
async function pinByKeyboard(page, pin) {
  const win = await pinWindow(page);
  await win.locator('#pin').waitFor();
  await until(() => win.evaluate(() => document.activeElement?.id === 'pin'), 'the PIN field to have the focus', 10_000);
  await expectAccessible(win, 'keyboard-pin-window', { otherLanguage: false });
  await win.keyboard.type(pin);
  await win.keyboard.press('Enter');
  return win;
}

/** Every live region and status/alert role above `selector`'s element (there must be none). */
function liveAncestors(page, selector) {
  return page.evaluate((sel) => {
    const found = [];
    for (let el = document.querySelector(sel); el; el = el.parentElement) {
      const live = el.getAttribute('aria-live');
      const role = el.getAttribute('role');
      if ((live && live !== 'off') || ['status', 'alert', 'log', 'timer', 'marquee'].includes(role)) {
        found.push(`${el.tagName.toLowerCase()}#${el.id}[role=${role}][aria-live=${live}]`);
      }
    }
    return found;
  }, selector);
}

test('別紙1 with the keyboard only: focus on each step\'s heading, status in the live region, axe clean', async () => {
  const platform = await startPlatform();
  const browser = await launchBrowser();
  try {
    const holder = platform.pki.holders[0];
    const origin = platform.server.origin;
    await browser.context.addInitScript(recordLiveRegion);
    const page = await browser.context.newPage();
    const problems = watchForProblems(page);
    await platform.cards.insert('hpki', holder.hpki_id);

    // ①–③: the top page, 「マイナンバーカードをご利用の方はこちら」, 「HPKIカードで登録」.
    await page.goto(`${origin}/`);
    await page.locator('.entry-choice a').first().waitFor();
    await tabTo(page, 'the My Number card entry', link('マイナンバーカードをご利用の方はこちら'));
    await page.keyboard.press('Enter');
    await tabTo(page, 'the HPKI registration link', (f) => link('HPKIカードで登録')(f) && f.href === '/mynumber');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${origin}/mynumber`);

    // The helper is found: the ready step's heading has the focus.
    await atStep(page, 'ready', 'HPKIカードで登録', 'カード読み取りソフト(mahpki-helper)を確認しています…', '01-ready');
    await tabTo(page, 'HPKIカードで登録', button('HPKIカードで登録'));
    await page.keyboard.press('Space');

    // HPKI card authentication: the PIN window opens; the page says to type the PIN there.
    await atStep(page, 'hpki_auth', 'HPKIカードで登録', '別ウィンドウ(mahpki-helper)で、HPKIカードのPIN(暗証番号)を入力してください。', '02-hpki-pin');
    const hpkiWin = await pinByKeyboard(page, holder.hpki_pin);

    // The 本人ID: its heading has the focus; the PIN entered was said (the card's work).
    await atStep(page, 'identified', '本人IDの確認', null, '03-identified');
    assert.equal((await page.locator('#hpki-id').textContent()).trim(), holder.hpki_id);
    await until(() => hpkiWin.isClosed(), 'the HPKI PIN window to close', 10_000);
    const said = await page.evaluate(() => window.__liveRegion.said);
    assert.ok(said.includes('HPKIカードと通信をしています。') || said.includes('サーバーで確認しています…'),
      `after the PIN the live region said the card's work: ${JSON.stringify(said)}`);

    // ⑥ The HPKI card is still in: 「マイナンバーカードを登録」 with Enter; the page asks for the swap.
    await tabTo(page, 'マイナンバーカードを登録', button('マイナンバーカードを登録'));
    await page.keyboard.press('Enter');
    await atStep(page, 'jpki_auth', 'マイナンバーカードを登録', '個人番号カードをカードリーダライタにセットしてください。', '04-swap');
    await platform.cards.insert('jpki', holder.hpki_id);
    await pinByKeyboard(page, holder.jpki_auth_pin);

    // Done: the heading has the focus and the live region said the guide's words.
    await atStep(page, 'done', '登録完了', 'マイナンバーカードの登録が完了しました。ブラウザを終了してください。', '05-done');
    const all = await page.evaluate(() => window.__liveRegion.said);
    for (const s of [
      '別ウィンドウ(mahpki-helper)で、個人番号カードの利用者証明用パスワード(4桁の数字)を入力してください。',
    ]) assert.ok(all.some((x) => x.includes(s)), `the live region said ${s}: ${JSON.stringify(all)}`);
    // One region for the whole page: it stayed while its words changed.
    assert.equal(await page.evaluate(() => window.__liveRegion.regions()), 1);

    const rows = (await platform.cli('binding', 'list')).split('\n').filter((l) => l.includes(holder.hpki_id));
    assert.equal(rows.length, 1, 'the keyboard walk bound the My Number card');
    const expected = /the server responded with a status of (400|401|409)/;
    assert.deepEqual(problems.filter((p) => !expected.test(p)), []);
  } finally {
    await browser.close();
    await platform.stop();
  }
});

test('別紙1 with the keyboard only: a wrong PIN is an alert, 中止 by keyboard lands on its heading', async () => {
  const platform = await startPlatform();
  const browser = await launchBrowser();
  try {
    const holder = platform.pki.holders[0];
    await browser.context.addInitScript(recordLiveRegion);
    const page = await browser.context.newPage();
    await platform.cards.insert('hpki', holder.hpki_id);
    await page.goto(`${platform.server.origin}/mynumber`);
    await atStep(page, 'ready', 'HPKIカードで登録', null, 'err-01-ready');
    await tabTo(page, 'HPKIカードで登録', button('HPKIカードで登録'));
    await page.keyboard.press('Enter');
    await pinByKeyboard(page, holder.hpki_pin === '0000' ? '1111' : '0000');
    await screen(page, 'hpki_auth', 'pin_wrong');
    // The refusal is an alert; the tries left are on the page.
    const alert = page.getByRole('alert').filter({ hasText: '暗証番号(パスワード)が正しくありません' });
    await alert.waitFor();
    await expectAccessible(page, 'keyboard-err-pin-wrong', { otherLanguage: false });
    // 中止 is reached from the heading with Tab and pressed with Space.
    await tabTo(page, '中止', button('中止'));
    await page.keyboard.press('Space');
    await atStep(page, 'cancelled', '中止しました', '登録を中止しました。マイナンバーカードは登録されていません。', 'err-02-cancelled');
  } finally {
    await browser.close();
    await platform.stop();
  }
});

test('別紙2 on the PC with the keyboard only: the 2D code step, its countdown outside any live region', async () => {
  const platform = await startPlatform();
  const browser = await launchBrowser();
  try {
    const holder = platform.pki.holders[0];
    await browser.context.addInitScript(recordLiveRegion);
    const page = await browser.context.newPage();
    await platform.cards.insert('hpki', holder.hpki_id);
    await page.goto(`${platform.server.origin}/smartphone`);
    await atStep(page, 'ready', 'HPKIカードで登録または変更', null, 'code-01-ready');
    await tabTo(page, 'HPKIカードで登録または変更', button('HPKIカードで登録または変更'));
    await page.keyboard.press('Enter');
    await pinByKeyboard(page, holder.hpki_pin);
    await atStep(page, 'show_code', 'スマートフォン登録用の二次元コード', null, 'code-02-code');

    // The countdown ticks each second on screen but is in no live region; the region says the
    // minutes, and the same words for seconds on end.
    const countdown = page.locator('#countdown');
    assert.deepEqual(await liveAncestors(page, '#countdown'), []);
    assert.equal(await countdown.getAttribute('aria-live'), 'off');
    // Both read in one go, so they are from the same render.
    const read = () => page.evaluate(() => ({
      shown: document.getElementById('countdown').textContent,
      said: document.getElementById('flow-status').textContent,
      count: window.__liveRegion.said.length,
    }));
    // What the region must say for the countdown shown: its time rounded up to the minute, or 30 s.
    const announced = (shown) => {
      const [, m, s] = /残り (\d+)分(\d+)秒/.exec(shown);
      const secs = Number(m) * 60 + Number(s);
      const a = secs > 30 ? Math.ceil(secs / 60) * 60 : 30;
      return `有効期限まで残り ${Math.floor(a / 60)}分${String(a % 60).padStart(2, '0')}秒`;
    };
    const before = await read();
    assert.equal(before.said, announced(before.shown));
    await page.waitForTimeout(3_500);
    const after = await read();
    assert.notEqual(after.shown, before.shown, 'the countdown ticks on screen');
    assert.equal(after.said, announced(after.shown));
    // Three seconds of ticking changed the region's words at most once (a minute boundary).
    assert.ok(after.count - before.count <= 1, `the live region changed ${after.count - before.count} times in 3.5 s`);

    // 中止 with the keyboard ends it; the focus lands on the new step's heading.
    await tabTo(page, '中止', button('中止'));
    await page.keyboard.press('Enter');
    await atStep(page, 'cancelled', '中止しました', '登録を中止しました。スマートフォンは登録されていません。', 'code-03-cancelled');
  } finally {
    await browser.close();
    await platform.stop();
  }
});
