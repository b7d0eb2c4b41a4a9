// 登録状況 (the holder's own page, /account) end to end: the real app in Chromium, the real server,
// the real local helper and virtual cards behind pcscd + vpcd. Signed in with the HPKI card, the
// holder sees what is registered, registers a My Number card through 別紙1 linked from the page,
// revokes it, ends another device's sign-in and then every sign-in, each through its
// confirmation screen; the server's binding list and audit trail agree.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  capture, enterPin, launchBrowser, screen, startPlatform, until, watchForProblems,
} from './harness.mjs';

/**
 * The daily sign-in through the /signin page's HPKI card way: the PIN typed in the helper's own
 * window; the page then goes on to the holder's page.
 */
async function signInWithHpkiCard(page, holder) {
  const origin = new URL(page.url()).origin;
  await page.goto(`${origin}/signin`);
  await page.getByRole('button', { name: 'HPKIカードでサインイン' }).click();
  await enterPin(page, holder.hpki_pin);
  await until(() => new URL(page.url()).pathname === '/account', 'the holder page', 30_000);
}

async function signingStatus(page, origin) {
  return (await page.request.get(`${origin}/api/signin`)).status();
}

test('登録状況: sign in with the HPKI card, register and revoke the My Number card, end one sign-in and all', async () => {
  const platform = await startPlatform();
  const browser = await launchBrowser();
  const other = await launchBrowser();
  try {
    const origin = platform.server.origin;
    const holder = platform.pki.holders[0];
    const page = await browser.context.newPage();
    const problems = watchForProblems(page);
    await platform.cards.insert('hpki', holder.hpki_id);

    // Not signed in: the way in, nothing else.
    await page.goto(`${origin}/account`);
    await screen(page, 'not_signed_in');
    await page.getByRole('link', { name: 'サインイン' }).waitFor();
    await capture(page, 'account-01-not-signed-in');

    await signInWithHpkiCard(page, holder);
    await page.goto(`${origin}/account`);
    await screen(page, 'shown');
    const text = await page.locator('main').textContent();
    assert.match(text, new RegExp(holder.hpki_id));
    assert.match(text, new RegExp(holder.name_kanji));
    assert.match(text, /マイナンバーカードは登録されていません。/);
    assert.match(text, /スマートフォンは登録されていません。/);
    assert.match(text, /リモート署名の記録はありません。/);
    assert.match(text, /サインイン\(HPKIカード\)/);
    assert.match(text, /\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d{2}/);
    const mine = page.locator('table.sessions tbody tr');
    assert.equal(await mine.count(), 1);
    assert.match(await mine.textContent(), /この端末.*HPKIカード/);
    await capture(page, 'account-02-shown');

    // 別紙1 from the page's own link; the card sign-in already identified this browser.
    await page.getByRole('link', { name: 'HPKIカードを使ってマイナンバーカードを登録' }).click();
    await screen(page, 'identified');
    await platform.cards.insert('jpki', holder.hpki_id);
    await page.getByRole('button', { name: 'マイナンバーカードを登録' }).click();
    await enterPin(page, holder.jpki_auth_pin);
    await screen(page, 'done');

    await page.goto(`${origin}/account`);
    await screen(page, 'shown');
    const bound = await page.locator('dl.binding').textContent();
    assert.match(bound, /有効期限\d{4}年\d{1,2}月\d{1,2}日/);
    assert.match(await page.locator('main').textContent(), /マイナンバーカードの登録/);
    await capture(page, 'account-03-mynumber-bound');

    // Revoke it: the confirmation screen, 「戻る」 changes nothing, then 「取り消す」.
    await page.getByRole('button', { name: 'マイナンバーカードの登録を取り消す' }).click();
    await screen(page, 'confirming');
    await page.getByText('マイナンバーカードの登録を取り消します。').waitFor();
    await capture(page, 'account-04-confirm-mynumber');
    await page.getByRole('button', { name: '戻る' }).click();
    await screen(page, 'shown');
    assert.match(await platform.cli('binding', 'list'), /"status":"active"/);
    await page.getByRole('button', { name: 'マイナンバーカードの登録を取り消す' }).click();
    await page.getByRole('button', { name: '取り消す', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'マイナンバーカードの登録を取り消しました。' }).waitFor();
    await screen(page, 'shown');
    assert.match(await page.locator('main').textContent(), /マイナンバーカードは登録されていません。/);
    await capture(page, 'account-05-mynumber-revoked');
    const bindings = await platform.cli('binding', 'list');
    assert.match(bindings, /"status":"revoked"/);
    assert.match(bindings, /revoked by holder/);
    let audit = await platform.cli('audit', 'tail');
    assert.match(audit, new RegExp(`mynumber\\.revoke.*${holder.hpki_id}.*ok|${holder.hpki_id}.*mynumber\\.revoke.*ok`));

    // Another device signs in; this page ends that sign-in.
    await platform.cards.insert('hpki', holder.hpki_id);
    const away = await other.context.newPage();
    await away.goto(`${origin}/account`);
    await screen(away, 'not_signed_in');
    await signInWithHpkiCard(away, holder);
    assert.equal(await signingStatus(away, origin), 200);
    await page.reload();
    await screen(page, 'shown');
    assert.equal(await page.locator('table.sessions tbody tr').count(), 2);
    await page.locator('table.sessions tbody tr:not(.this-browser) button').click();
    await screen(page, 'confirming');
    await page.getByText('次の端末のサインインを終了します。').waitFor();
    await capture(page, 'account-06-confirm-end-session');
    await page.getByRole('button', { name: '終了する', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'その端末のサインインを終了しました。' }).waitFor();
    assert.equal(await page.locator('table.sessions tbody tr').count(), 1);
    assert.equal(await signingStatus(away, origin), 401);
    assert.equal(await signingStatus(page, origin), 200);

    // Every sign-in, this one too: signed out, the cookie gone.
    await page.getByRole('button', { name: 'すべての端末でサインインを終了する' }).click();
    await screen(page, 'confirming');
    await capture(page, 'account-07-confirm-end-all');
    await page.getByRole('button', { name: '終了する', exact: true }).click();
    await screen(page, 'signed_out');
    await page.getByRole('status').filter({ hasText: 'すべての端末のサインインを終了しました。' }).waitFor();
    await capture(page, 'account-08-signed-out');
    assert.equal(await signingStatus(page, origin), 401);
    const cookies = await browser.context.cookies();
    assert.ok(!cookies.some((c) => c.name.includes('mahpki_signin')), JSON.stringify(cookies));
    audit = await platform.cli('audit', 'tail');
    assert.equal((audit.match(/signin\.end/g) ?? []).length, 2, audit);

    // Refusals the test provokes (not signed in: 401) are logged by Chromium; nothing else.
    const expected = /the server responded with a status of 401/;
    assert.deepEqual(problems.filter((p) => !expected.test(p)), []);
  } finally {
    await other.close();
    await browser.close();
    await platform.stop();
  }
});
