// スマートフォン変更, the JMA path and CA-issued links end to end, with the real server, helper and
// virtual cards, and phones with Chromium's virtual platform authenticator. A change needs no
// HPKI card: the phone bound now proves the holder through a first code and shows a confirmation
// code that the holder types on the PC (only then does the PC get anywhere), then the new phone
// enrols through a second code, confirmed the same way; the old one stops working only when the
// new one is committed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  NO_RATE_LIMIT, launchBrowser, screen, capture, serverConfig, startPlatform, testPki, watchForProblems,
} from './harness.mjs';
import { codeOnPc, codeOnPhone, enrolPhone, fitsPhone, identifyOnPc, phone, typeOnPc } from './phones.mjs';

/** The holder's phones as the server has them (`identity show`). */
async function phonesOf(platform, hpkiId) {
  return JSON.parse(await platform.cli('identity', 'show', hpkiId)).phones;
}

/** Index → 「スマートフォン(タブレットを含む)をご利用の方はこちら」 → 「スマートフォン変更」: the first code. */
async function startChange(pc, origin) {
  await pc.goto(`${origin}/`);
  await pc.getByRole('link', { name: 'スマートフォン(タブレットを含む)をご利用の方はこちら' }).click();
  await pc.locator('#smartphone').getByRole('link', { name: 'スマートフォン変更' }).click();
  return codeOnPc(pc, 'first_code', '#change-link');
}

/** The old phone's side: open the first code, log in with the 本人ID it remembers, biometrics;
 * it then shows a confirmation code, which the holder types on `pc`. */
async function proveOldPhone(ph, url, holder, pc, shots = {}) {
  await ph.page.goto(url);
  await screen(ph.page, 'login');
  assert.doesNotMatch(ph.page.url(), /#/);
  assert.equal(await ph.page.locator('#username').inputValue(), holder.hpki_id, 'remembered since it registered');
  await fitsPhone(ph.page);
  if (shots.login) await capture(ph.page, shots.login);
  await ph.page.getByRole('button', { name: 'ログイン' }).click();
  await screen(ph.page, 'confirming');
  const code = await codeOnPhone(ph.page);
  if (shots.confirmPhone) await capture(ph.page, shots.confirmPhone);
  await screen(pc, 'confirm');
  await pc.getByText('旧スマートフォンに表示されている確認コード(6桁の数字)を入力し').waitFor();
  await typeOnPc(pc, code, shots.confirmPc);
  await screen(ph.page, 'done');
  assert.match(await ph.page.locator('main').textContent(), /本人確認が完了しました。/);
  if (shots.done) await capture(ph.page, shots.done);
}

test('スマートフォン変更: the old phone proves the holder, aborting keeps it, the new phone replaces it at commit', async () => {
  const config = await serverConfig({ top: NO_RATE_LIMIT });
  const platform = await startPlatform({ serverEnv: { MAHPKI_CONFIG: config } });
  const pcBrowser = await launchBrowser();
  const phones = [];
  try {
    const holder = platform.pki.holders[0];
    const origin = platform.server.origin;
    const pc = await pcBrowser.context.newPage();
    const problems = watchForProblems(pc);
    // The phone registered with the HPKI card some time ago.
    await platform.cards.insert('hpki', holder.hpki_id);
    await identifyOnPc(pc, origin, holder);
    const enrolment = await codeOnPc(pc);
    const old = await phone();
    phones.push(old);
    await enrolPhone(old, enrolment.url, holder, pc, {}, '旧スマートフォン');
    await screen(pc, 'done');
    await platform.cards.remove();

    // Without the card: the first code, for the old phone.
    const first = await startChange(pc, origin);
    assert.match(first.url, new RegExp(`^${origin}/change#[A-Za-z0-9_-]{43}$`));
    await pc.getByText('登録済みのスマートフォン(旧スマートフォン)のカメラで二次元コードを読み取ってください。').waitFor();
    await capture(pc, 'change-01-first-code');
    // The PC hears the old phone open the code before the phone goes on.
    await old.page.goto(first.url);
    await screen(pc, 'first_opened');
    await pc.getByText('旧スマートフォンで操作を続けてください').waitFor();
    await capture(pc, 'change-03-pc-first-opened');
    await proveOldPhone(old, first.url, holder, pc, {
      login: 'change-02-old-phone-login',
      confirmPhone: 'change-04-old-phone-confirm-code',
      confirmPc: 'change-04-pc-confirm',
      done: 'change-04-old-phone-done',
    });
    // Proved: the second code, for the new phone, naming the holder.
    const second = await codeOnPc(pc);
    assert.equal((await pc.locator('#hpki-id').textContent()).trim(), holder.hpki_id);
    await pc.getByText('新しいスマートフォンのカメラで二次元コードを読み取り、登録サイトにアクセスしてください。').waitFor();
    await capture(pc, 'change-05-second-code');

    // Aborting here changes nothing: the old phone is still the holder's.
    await pc.getByRole('button', { name: '中止' }).click();
    await screen(pc, 'cancelled');
    await pc.getByText('スマートフォン変更を中止しました。旧スマートフォンは引き続き利用できます。').waitFor();
    await capture(pc, 'change-06-cancelled');
    const afterAbort = await phonesOf(platform, holder.hpki_id);
    assert.deepEqual(afterAbort.map((p) => [p.label, p.revoked_ms]), [['旧スマートフォン', null]]);
    // The abandoned second code died with 中止: a phone that scans it now is told so.
    const stray = await phone();
    phones.push(stray);
    await stray.page.goto(second.url);
    await stray.page.locator('[data-error="enrolment_cancelled"]').waitFor();

    // Again from the start: the old phone still proves the holder.
    await pc.getByRole('button', { name: '最初からやり直す' }).click();
    const again = await codeOnPc(pc, 'first_code', '#change-link');
    await proveOldPhone(old, again.url, holder, pc);
    const next = await codeOnPc(pc);
    const fresh = await phone();
    phones.push(fresh);
    await enrolPhone(fresh, next.url, holder, pc, {
      confirmPhone: 'change-07-new-phone-confirm-code',
      login: 'change-07-new-phone-login', done: 'change-08-new-phone-done',
    }, '新しいスマートフォン');
    await screen(pc, 'done');
    await pc.getByText('以前に登録されていたスマートフォンは、認証に利用できなくなりました。').waitFor();
    await capture(pc, 'change-09-pc-done');

    // Committed: the new phone is the holder's, the old one revoked in the same step.
    const after = await phonesOf(platform, holder.hpki_id);
    const byLabel = Object.fromEntries(after.map((p) => [p.label, p]));
    assert.equal(byLabel['新しいスマートフォン'].revoked_ms, null);
    assert.notEqual(byLabel['旧スマートフォン'].revoked_ms, null);

    // The old phone can no longer start a change: the server names only the new credential.
    const late = await startChange(pc, origin);
    await old.page.goto(late.url);
    await screen(old.page, 'login');
    await old.page.getByRole('button', { name: 'ログイン' }).click();
    await old.page.locator('section[data-step="failed"] [data-error="webauthn_not_proved"]').waitFor();
    await capture(old.page, 'change-err-old-phone-revoked');
    await pc.getByRole('button', { name: '中止' }).click();

    // Refusals the screens show, and event streams closed by leaving a screen.
    const expected = /the server responded with a status of (401|404|409|410)|\/current\/events net::ERR_ABORTED/;
    assert.deepEqual(problems.filter((p) => !expected.test(p)), []);
  } finally {
    for (const p of phones) await p.close();
    await pcBrowser.close();
    await platform.stop();
  }
});

test('JMA path: the numbers printed on the card instead of the card; wrong numbers say so', async () => {
  const pki = await testPki(1);
  const config = await serverConfig({ tables: '[ca_policy.JMA]\njma_path = true' });
  const platform = await startPlatform({ serverEnv: { MAHPKI_CONFIG: config } });
  const pcBrowser = await launchBrowser();
  let ph;
  try {
    const holder = pki.holders.find((h) => h.issuer === 'JMA' && !h.revoked);
    const pc = await pcBrowser.context.newPage();
    await pc.goto(`${platform.server.origin}/smartphone`);
    await screen(pc, 'ready');
    await pc.getByRole('link', { name: '医籍登録番号とカードIDで登録' }).click();
    await screen(pc, 'jma_form');
    await capture(pc, 'jma-01-form');
    await pc.getByLabel('医籍登録番号').fill(holder.registration_number);
    await pc.getByLabel('カードID').fill('JMA99999999');
    await pc.getByRole('button', { name: '認証' }).click();
    await pc.locator('section[data-step="jma_form"] [data-error="jma_login_failed"]').waitFor();
    // Like the PIN screens: the tries left before the pause; and a way back.
    await pc.getByText('残り回数: 4回').waitFor();
    await pc.getByRole('link', { name: 'トップページへ戻る' }).waitFor();
    await capture(pc, 'jma-err-wrong-numbers');

    // The form kept both numbers; correct the card ID by keyboard alone and submit with Enter.
    assert.equal(await pc.getByLabel('医籍登録番号').inputValue(), holder.registration_number);
    await pc.getByLabel('医籍登録番号').focus();
    await pc.keyboard.press('Tab');
    assert.equal(await pc.evaluate(() => document.activeElement.id), 'card-id');
    await pc.keyboard.press('Control+A');
    await pc.keyboard.type(holder.hpki_card_id);
    await pc.keyboard.press('Enter');
    const { url } = await codeOnPc(pc);
    assert.equal((await pc.locator('#hpki-id').textContent()).trim(), holder.hpki_id);
    await capture(pc, 'jma-02-code');
    ph = await phone();
    await enrolPhone(ph, url, holder, pc);
    await screen(pc, 'done');
    const phones = await phonesOf(platform, holder.hpki_id);
    assert.equal(phones.filter((p) => p.revoked_ms === null).length, 1);
  } finally {
    await ph?.close();
    await pcBrowser.close();
    await platform.stop();
  }
});

test('CA-issued link: the phone enrols without a PC; an expired link says so', async () => {
  const platform = await startPlatform();
  const phones = [];
  try {
    const holder = platform.pki.holders[1];
    const url = (await platform.cli('enrolment', 'issue-link', '--hpki-id', holder.hpki_id, '--valid-days', '90')).trim();
    assert.match(url, new RegExp(`^${platform.server.origin}/enrol#[A-Za-z0-9_-]{43}$`));
    const ph = await phone();
    phones.push(ph);
    await enrolPhone(ph, url, holder, undefined, { login: 'link-01-phone-login', done: 'link-02-phone-done' });
    assert.equal((await phonesOf(platform, holder.hpki_id)).length, 1);

    // Another holder's link, issued already expired.
    const other = platform.pki.holders[2];
    const expired = (await platform.cli('enrolment', 'issue-link', '--hpki-id', other.hpki_id, '--valid-days', '0')).trim();
    const late = await phone();
    phones.push(late);
    await late.page.goto(expired);
    await screen(late.page, 'failed');
    await late.page.locator('[data-error="enrolment_link_expired"]').waitFor();
    await late.page.getByText('リンクを発行した認証局に、新しい登録用リンクの発行を申請してください。').waitFor();
    await capture(late.page, 'link-err-expired');
  } finally {
    for (const p of phones) await p.close();
    await platform.stop();
  }
});

test('スマートフォン変更: a first code nobody opens expires and is re-issued; 中止 kills the code on screen', async () => {
  const platform = await startPlatform({ serverEnv: { MAHPKI_ENROLMENT_TTL_SECS: '4' } });
  const pcBrowser = await launchBrowser();
  let ph;
  try {
    const pc = await pcBrowser.context.newPage();
    const stale = await startChange(pc, platform.server.origin);
    await screen(pc, 'first_expired');
    await pc.getByRole('heading', { name: '有効期限が切れました' }).waitFor();
    await capture(pc, 'change-10-first-expired');
    await pc.getByRole('button', { name: '二次元コードを再発行' }).click();
    const fresh = await codeOnPc(pc, 'first_code', '#change-link');
    assert.notEqual(fresh.url, stale.url);
    await pc.getByRole('button', { name: '中止' }).click();
    await screen(pc, 'cancelled');

    ph = await phone();
    await ph.page.goto(fresh.url);
    await ph.page.locator('section[data-step="failed"] [data-error="enrolment_cancelled"]').waitFor();
    await ph.page.getByText('PCでスマートフォン変更をやり直し').waitFor();
    await capture(ph.page, 'change-err-cancelled-code');
    await ph.page.goto(stale.url);
    await ph.page.locator('section[data-step="failed"] [data-error="enrolment_expired"]').waitFor();
  } finally {
    await ph?.close();
    await pcBrowser.close();
    await platform.stop();
  }
});

test('スマートフォン変更 phished: an attacker\'s PC whose link the holder\'s old phone proved gets no grant without the code', async () => {
  const config = await serverConfig({ top: NO_RATE_LIMIT });
  const platform = await startPlatform({ serverEnv: { MAHPKI_CONFIG: config } });
  const holdersPc = await launchBrowser();
  const attackersPc = await launchBrowser();
  const phones = [];
  try {
    const holder = platform.pki.holders[0];
    const origin = platform.server.origin;
    const pc = await holdersPc.context.newPage();
    await platform.cards.insert('hpki', holder.hpki_id);
    await identifyOnPc(pc, origin, holder);
    const enrolment = await codeOnPc(pc);
    const old = await phone();
    phones.push(old);
    await enrolPhone(old, enrolment.url, holder, pc, {}, '旧スマートフォン');
    await screen(pc, 'done');

    // The attacker's PC starts a change and sends the holder its real link; the holder's old
    // phone opens it and passes its biometric check.
    const evil = await attackersPc.context.newPage();
    const first = await startChange(evil, origin);
    await old.page.goto(first.url);
    await screen(old.page, 'login');
    await old.page.getByRole('button', { name: 'ログイン' }).click();
    await screen(old.page, 'confirming');
    const code = await codeOnPhone(old.page);
    // The attacker's PC is asked for the code shown only on the holder's phone, and learns
    // nothing of the holder meanwhile.
    await screen(evil, 'confirm');
    assert.equal(await evil.locator('#hpki-id').count(), 0);
    const guess = (k) => String((Number(code) + k) % 1_000_000).padStart(6, '0');
    await typeOnPc(evil, guess(1));
    await evil.getByText('あと2回入力できます。').waitFor();
    await typeOnPc(evil, guess(2));
    await evil.getByText('あと1回入力できます。').waitFor();
    await typeOnPc(evil, guess(3));
    await screen(evil, 'confirm_failed');
    await capture(evil, 'change-err-phished-pc');
    // No grant: the attacker's session can issue no code for its own phone.
    const answer = await evil.evaluate(async () => (await fetch('/api/smartphone/enrolments', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"replace":true}',
    })).status);
    assert.equal(answer, 401);
    // The holder's phone is told, and keeps working.
    await old.page.locator('section[data-step="failed"] [data-error="confirmation_failed"]').waitFor();
    await capture(old.page, 'change-err-phished-old-phone');
    const after = await phonesOf(platform, holder.hpki_id);
    assert.deepEqual(after.map((p) => [p.label, p.revoked_ms]), [['旧スマートフォン', null]]);
  } finally {
    for (const p of phones) await p.close();
    await attackersPc.close();
    await holdersPc.close();
    await platform.stop();
  }
});
