// 別紙1 end to end: the real app in Chromium, the real server, the real local helper and virtual
// cards behind the real pcscd + vpcd. The holder's PIN goes into the helper's own window, never
// the page. Each test starts its own platform (cards keep their PIN counters per cardsim run).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  enterPin, launchBrowser, pinWindow, screen, capture, startPlatform, until, watchForProblems,
} from './harness.mjs';

/** Opens the 別紙1 page from the index, as the guide's steps ①–③ do. */
async function openFlow(page, origin, shot) {
  await page.goto(`${origin}/`);
  const entry = page.getByRole('link', { name: 'マイナンバーカードをご利用の方はこちら' });
  await entry.waitFor();
  if (shot) await capture(page, shot);
  await entry.click();
  await page.locator('#mynumber').getByRole('link', { name: 'HPKIカードで登録' }).click();
  await screen(page, 'ready');
}

/** Presses 「HPKIカードで登録」 and enters the HPKI card's PIN in the helper's window. */
async function authenticateHpki(page, holder, shot) {
  await page.getByRole('button', { name: 'HPKIカードで登録' }).click();
  await enterPin(page, holder.hpki_pin, shot);
}

/** HPKI card authentication up to the 本人ID screen. */
async function identify(page, holder, shots = {}) {
  await authenticateHpki(page, holder, shots.pin);
  await screen(page, 'identified');
  assert.equal((await page.locator('#hpki-id').textContent()).trim(), holder.hpki_id);
}

function bindingsOf(platform, hpkiId) {
  return platform.cli('binding', 'list').then((out) => out.split('\n').filter((l) => l.includes(hpkiId)));
}

/** Runs `body` with a fresh platform and browser, and checks the page stayed clean. */
async function withPlatform(body) {
  const platform = await startPlatform();
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    const problems = watchForProblems(page);
    await body({ platform, page, holders: platform.pki.holders });
    // Refusals the flow expects (no session yet: 401; card bound elsewhere: 409; the helper
    // stopped on purpose) are logged by Chromium; anything else is a defect.
    const expected = /the server responded with a status of (400|401|409)|127\.0\.0\.1:\d+\/v1\/.*ERR_CONNECTION_REFUSED|Failed to load resource: net::ERR_CONNECTION_REFUSED/;
    const unexpected = problems.filter((p) => !expected.test(p));
    assert.deepEqual(unexpected, []);
  } finally {
    await browser.close();
    await platform.stop();
  }
}

test('別紙1: HPKI card, 本人ID, swap, My Number card, completion, binding and audit on the server', async () => {
  await withPlatform(async ({ platform, page, holders }) => {
    const holder = holders[0];
    await platform.cards.insert('hpki', holder.hpki_id);
    await openFlow(page, platform.server.origin, 'mynumber-01-index');
    await page.locator('.readers').filter({ hasText: 'HPKIカード' }).waitFor();
    await capture(page, 'mynumber-02-ready');

    await identify(page, holder, { pin: 'mynumber-03-hpki-pin-window' });
    const text = await page.locator('main').textContent();
    assert.match(text, new RegExp(holder.name_kanji));
    assert.match(text, /◆マイナンバーカードがICカードリーダーにセットされている状態で下のボタンをクリックしてください。◆/);
    await capture(page, 'mynumber-04-identified');

    // The HPKI card is still in: the page asks for the My Number card and goes on by itself.
    await page.getByRole('button', { name: 'マイナンバーカードを登録' }).click();
    await screen(page, 'jpki_auth', 'change_card');
    await page.getByText('個人番号カードをカードリーダライタにセットしてください。').waitFor();
    await capture(page, 'mynumber-05-change-card');
    await platform.cards.insert('jpki', holder.hpki_id);

    const win = await enterPin(page, holder.jpki_auth_pin, 'mynumber-06-jpki-pin-window');
    await capture(page, 'mynumber-07-communicating');
    await screen(page, 'done');
    const done = await page.locator('main').textContent();
    assert.match(done, /マイナンバーカードの登録が完了しました。ブラウザを終了してください。/);
    assert.match(done, /利用者証明用電子証明書の有効期限: \d{4}年\d{1,2}月\d{1,2}日/);
    await capture(page, 'mynumber-08-done');
    // The helper's window closes itself once its part is done.
    await until(() => win.isClosed(), 'the PIN window to close', 10_000);

    const rows = await bindingsOf(platform, holder.hpki_id);
    assert.equal(rows.length, 1, `binding list:\n${await platform.cli('binding', 'list')}`);
    assert.match(rows[0], new RegExp(holder.jpki_auth_cert_sha256.slice(0, 16), 'i'));
    const audit = await platform.cli('audit', 'tail');
    assert.match(audit, new RegExp(`hpki\\.auth.*${holder.hpki_id}.*ok|${holder.hpki_id}.*hpki\\.auth.*ok`));
    assert.match(audit, new RegExp(`mynumber\\.bind.*${holder.hpki_id}.*ok|${holder.hpki_id}.*mynumber\\.bind.*ok`));

    // The session ended with the registration: the server no longer knows this browser.
    const session = await page.request.get(`${platform.server.origin}/api/session`);
    assert.equal(session.status(), 401);
  });
});

test('別紙1: a wrong PIN shows the tries left and binds nothing; cancel leaves nothing half done', async () => {
  await withPlatform(async ({ platform, page, holders }) => {
    const holder = holders[0];
    await platform.cards.insert('hpki', holder.hpki_id);
    await openFlow(page, platform.server.origin);
    await identify(page, holder);
    await platform.cards.insert('jpki', holder.hpki_id);
    await page.getByRole('button', { name: 'マイナンバーカードを登録' }).click();
    await enterPin(page, holder.jpki_auth_pin === '0000' ? '1111' : '0000');
    await screen(page, 'jpki_auth', 'pin_wrong');
    const text = await page.locator('main').textContent();
    assert.match(text, /暗証番号\(パスワード\)が正しくありません/);
    assert.match(text, /残り回数: 2回/);
    await capture(page, 'mynumber-err-pin-wrong');

    await page.getByRole('button', { name: '中止' }).click();
    await screen(page, 'cancelled');
    await page.getByText('登録を中止しました。マイナンバーカードは登録されていません。').waitFor();
    await capture(page, 'mynumber-cancelled');
    assert.deepEqual(await bindingsOf(platform, holder.hpki_id), []);
    const session = await page.request.get(`${platform.server.origin}/api/session`);
    assert.equal(session.status(), 401);
  });
});

test('別紙1: a locked My Number card PIN says where to reset it and binds nothing', async () => {
  await withPlatform(async ({ platform, page, holders }) => {
    const holder = holders[1];
    await platform.cards.insert('hpki', holder.hpki_id);
    await openFlow(page, platform.server.origin);
    await identify(page, holder);
    await platform.cards.insert('jpki', holder.hpki_id);
    await page.getByRole('button', { name: 'マイナンバーカードを登録' }).click();
    const wrong = holder.jpki_auth_pin === '0000' ? '1111' : '0000';
    await enterPin(page, wrong);
    await page.getByText('残り回数: 2回').waitFor();
    await enterPin(page, wrong);
    await page.getByText('残り回数: 1回').waitFor();
    await page.getByText('次に間違えるとロックされます。').waitFor();
    await enterPin(page, wrong);
    await screen(page, 'failed');
    const text = await page.locator('main').textContent();
    assert.match(text, /利用者証明用パスワードがロックされています/);
    assert.match(text, /市区町村窓口/);
    assert.match(text, /コンビニエンスストア/);
    assert.match(text, /マイナンバーカードは登録されていません。/);
    assert.equal(await page.locator('[role=alert][data-error]').getAttribute('data-error'), 'jpki_pin_locked');
    await capture(page, 'mynumber-err-pin-locked');
    assert.deepEqual(await bindingsOf(platform, holder.hpki_id), []);
  });
});

test('別紙1: the wrong card asks for the right one; the card removed mid-operation says so', async () => {
  await withPlatform(async ({ platform, page, holders }) => {
    const holder = holders[0];
    // The My Number card where the HPKI card is needed.
    await platform.cards.insert('jpki', holder.hpki_id);
    await openFlow(page, platform.server.origin);
    await page.getByRole('button', { name: 'HPKIカードで登録' }).click();
    await screen(page, 'hpki_auth', 'change_card');
    await page.getByText('挿入されているカードはHPKIカードではありません。').waitFor();
    await capture(page, 'mynumber-err-wrong-card');
    // Swapping goes on by itself.
    await platform.cards.insert('hpki', holder.hpki_id);
    await enterPin(page, holder.hpki_pin);
    await screen(page, 'identified');

    await platform.cards.insert('jpki', holder.hpki_id);
    await page.getByRole('button', { name: 'マイナンバーカードを登録' }).click();
    await pinWindow(page);
    await platform.cards.remove();
    await screen(page, 'failed');
    assert.equal(await page.locator('[role=alert][data-error]').getAttribute('data-error'), 'card_removed');
    assert.match(await page.locator('main').textContent(), /操作の途中でカードが取り外されました。/);
    await capture(page, 'mynumber-err-card-removed');
    assert.deepEqual(await bindingsOf(platform, holder.hpki_id), []);

    // Try again goes back to the swap screen: the holder is still identified.
    await page.getByRole('button', { name: 'もう一度試す' }).click();
    await screen(page, 'identified');
  });
});

test('別紙1: a My Number card bound to another 本人ID is refused and nothing changes', async () => {
  await withPlatform(async ({ platform, page, holders }) => {
    const [first, second] = holders;
    await platform.cards.insert('hpki', first.hpki_id);
    await openFlow(page, platform.server.origin);
    await identify(page, first);
    await platform.cards.insert('jpki', first.hpki_id);
    await page.getByRole('button', { name: 'マイナンバーカードを登録' }).click();
    await enterPin(page, first.jpki_auth_pin);
    await screen(page, 'done');
    const before = await platform.cli('binding', 'list');

    // The second holder presents the first holder's My Number card.
    await platform.cards.insert('hpki', second.hpki_id);
    await openFlow(page, platform.server.origin);
    await identify(page, second);
    await platform.cards.insert('jpki', first.hpki_id);
    await page.getByRole('button', { name: 'マイナンバーカードを登録' }).click();
    await enterPin(page, first.jpki_auth_pin);
    await screen(page, 'failed');
    assert.equal(await page.locator('[role=alert][data-error]').getAttribute('data-error'), 'my_number_bound_elsewhere');
    assert.match(await page.locator('main').textContent(), /別の本人ID/);
    await capture(page, 'mynumber-err-bound-elsewhere');
    assert.equal(await platform.cli('binding', 'list'), before);
    assert.deepEqual(await bindingsOf(platform, second.hpki_id), []);
  });
});

test('別紙1: a revoked HPKI certificate and a stopped helper each end in their message', async () => {
  await withPlatform(async ({ platform, page, holders }) => {
    const revoked = holders.find((h) => h.revoked);
    await platform.cards.insert('hpki', revoked.hpki_id);
    await openFlow(page, platform.server.origin);
    await authenticateHpki(page, revoked);
    await screen(page, 'failed');
    assert.equal(await page.locator('[role=alert][data-error]').getAttribute('data-error'), 'certificate_revoked');
    // It names the card in hand and only its remedy; trying again cannot work, the top page can.
    const text = await page.locator('main').textContent();
    assert.match(text, /HPKIカードの証明書は失効しています。/);
    assert.doesNotMatch(text, /マイナンバーカードはお住まい|もう一度試す/);
    await capture(page, 'mynumber-err-revoked');

    const holder = holders[0];
    await platform.cards.insert('hpki', holder.hpki_id);
    await page.getByRole('link', { name: 'トップページへ戻る' }).click();
    await page.waitForURL(`${platform.server.origin}/`);
    await openFlow(page, platform.server.origin);
    await identify(page, holder);
    await platform.helper.stop();
    await page.getByRole('button', { name: 'マイナンバーカードを登録' }).click();
    await screen(page, 'failed');
    assert.equal(await page.locator('[role=alert][data-error]').getAttribute('data-error'), 'helper_unreachable');
    await capture(page, 'mynumber-err-helper-stopped');
    assert.deepEqual(await bindingsOf(platform, holder.hpki_id), []);
  });
});

/** Whether the PIN window shows an input the holder could type into. */
async function pinInputShown(win) {
  return win.locator('#pin').isVisible();
}

test('別紙1: the PIN window asks only when the right card is in, takes focus, shows the PIN on request, and キャンセル ends the operation', async () => {
  await withPlatform(async ({ platform, page, holders }) => {
    const holder = holders[0];
    await platform.cards.insert('hpki', holder.hpki_id);
    await openFlow(page, platform.server.origin);

    // The PIN field has the focus when it appears, so a keyboard user types into it.
    await page.getByRole('button', { name: 'HPKIカードで登録' }).click();
    let win = await pinWindow(page);
    await win.locator('#pin').waitFor();
    await until(() => win.evaluate(() => document.activeElement && document.activeElement.id === 'pin'),
      'focus in the PIN field', 10_000);
    assert.match(await win.locator('#tries').textContent(), /残り回数: \d+回/);
    assert.ok(await win.getByRole('button', { name: /キャンセル/ }).isVisible());
    // 「入力した暗証番号を表示する」 turns the field to plain text and back.
    await win.locator('#pin').fill('12');
    await win.getByLabel(/入力した暗証番号を表示する/).check();
    assert.equal(await win.locator('#pin').inputValue(), '12');
    assert.equal(await win.locator('#pin').getAttribute('type'), 'text');
    await win.getByLabel(/入力した暗証番号を表示する/).uncheck();
    assert.equal(await win.locator('#pin').getAttribute('type'), 'password');
    await capture(win, 'mynumber-pin-window-focus', { fullPage: false });

    await win.locator('#pin').fill(holder.hpki_pin);
    await win.locator('#pin-form button[type=submit]').click();
    await screen(page, 'identified');
    await until(() => win.isClosed(), 'the HPKI PIN window to close', 10_000);

    // The HPKI card is still in: the window asks for nothing until the My Number card is.
    await page.getByRole('button', { name: 'マイナンバーカードを登録' }).click();
    await screen(page, 'jpki_auth', 'change_card');
    win = await until(() => page.context().pages().find((p) => p.url().includes('/pin/') && !p.isClosed()),
      'the PIN window', 10_000);
    await win.locator('#state').filter({ hasText: 'マイナンバーカードに差し替えてください' }).waitFor();
    assert.equal(await pinInputShown(win), false, 'no PIN input while the wrong card is in');
    await capture(win, 'mynumber-pin-window-swap', { fullPage: false });
    await platform.cards.insert('jpki', holder.hpki_id);
    await win.locator('#pin').waitFor();

    // キャンセル (the guide's dialog has OK / キャンセル) ends the operation; nothing is bound.
    await win.getByRole('button', { name: /キャンセル/ }).click();
    await screen(page, 'failed');
    assert.equal(await page.locator('[role=alert][data-error]').getAttribute('data-error'), 'cancelled');
    assert.deepEqual(await bindingsOf(platform, holder.hpki_id), []);
  });
});

test('別紙1: a finished operation leaves no PIN input in its window (locked card, helper stopped)', async () => {
  await withPlatform(async ({ platform, page, holders }) => {
    const holder = holders[2];
    await platform.cards.insert('hpki', holder.hpki_id);
    await openFlow(page, platform.server.origin);
    await identify(page, holder);
    await platform.cards.insert('jpki', holder.hpki_id);
    await page.getByRole('button', { name: 'マイナンバーカードを登録' }).click();
    const wrong = holder.jpki_auth_pin === '0000' ? '1111' : '0000';
    let url;
    for (const left of ['2', '1']) {
      const win = await enterPin(page, wrong);
      url = win.url();
      await page.getByText(`残り回数: ${left}回`).waitFor();
    }
    await enterPin(page, wrong);
    await screen(page, 'failed');
    // The page closes its window; the same PIN page opened again shows the end, not a field.
    const again = await page.context().newPage();
    await again.goto(url);
    await again.locator('#state').filter({ hasText: '操作を完了できませんでした' }).waitFor();
    assert.equal(await pinInputShown(again), false, 'no PIN input after the card locked');
    await capture(again, 'mynumber-pin-window-locked', { fullPage: false });

    // The helper stops while its PIN page waits for a PIN: the page says so and shows no input.
    // (Opened as its own tab here: the site's page closes the window it opened by itself.)
    // Any PIN prompt will do: the session may still be identified (then a My Number card's),
    // or not (then the HPKI card's).
    await page.goto(`${platform.server.origin}/`);
    await page.getByRole('link', { name: 'マイナンバーカードをご利用の方はこちら' }).click();
    await page.locator('#mynumber').getByRole('link', { name: 'HPKIカードで登録' }).click();
    const step = page.locator('section[data-step="identified"], section[data-step="ready"]');
    await step.first().waitFor();
    if ((await step.first().getAttribute('data-step')) === 'identified') {
      await platform.cards.insert('jpki', holders[0].hpki_id);
      await page.getByRole('button', { name: 'マイナンバーカードを登録' }).click();
    } else {
      await platform.cards.insert('hpki', holder.hpki_id);
      await page.getByRole('button', { name: 'HPKIカードで登録' }).click();
    }
    const pinUrl = (await pinWindow(page)).url();
    const tab = await page.context().newPage();
    await tab.goto(pinUrl);
    await tab.locator('#pin').waitFor();
    await platform.helper.stop();
    await tab.locator('#state').filter({ hasText: 'ヘルパーとの通信が切れました' }).waitFor({ timeout: 10_000 });
    assert.equal(await pinInputShown(tab), false, 'no PIN input once the helper is gone');
    await capture(tab, 'mynumber-pin-window-helper-gone', { fullPage: false });
    await screen(page, 'failed');
  });
});

test('別紙1: a closed PIN window is noticed, offered again for the same operation, and the flow goes on', async () => {
  await withPlatform(async ({ platform, page, holders }) => {
    const holder = holders[0];
    await platform.cards.insert('hpki', holder.hpki_id);
    await openFlow(page, platform.server.origin);
    await page.getByRole('button', { name: 'HPKIカードで登録' }).click();
    const win = await pinWindow(page);
    const url = win.url();
    await win.locator('#pin').waitFor();
    // The holder closes the window as a user would (its pagehide runs and tells the helper).
    await win.close({ runBeforeUnload: true });
    await screen(page, 'hpki_auth', 'pin_window_closed');
    const notice = page.getByRole('alert').filter({ hasText: 'PIN入力画面が閉じられました' });
    await notice.waitFor();
    assert.ok(await page.getByRole('button', { name: '中止' }).isVisible());
    await capture(page, 'mynumber-pin-window-closed');

    // 「PIN入力画面を開き直す」 opens the same operation's page again; the notice goes.
    await page.getByRole('link', { name: 'PIN入力画面を開き直す' }).click();
    const again = await until(() => page.context().pages().find((p) => p.url() === url && !p.isClosed()),
      'the reopened PIN window', 10_000);
    await again.locator('#pin').waitFor();
    await screen(page, 'hpki_auth', 'waiting_pin');
    await again.locator('#pin').fill(holder.hpki_pin);
    await again.locator('#pin-form button[type=submit]').click();
    await screen(page, 'identified');
  });
});
