// 別紙2 end to end with two browsers, the PC and the phone: the PC identifies the holder with the
// HPKI card (real helper, virtual card behind pcscd), shows the 2D code; the phone, with
// Chromium's virtual platform authenticator, opens the code's link and shows a confirmation
// code, which the holder types on the PC; only then does the phone register a passkey and
// confirm the label; the PC shows completion pushed by the server (SSE), never polled.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launchBrowser, screen, capture, startPlatform, watchForProblems } from './harness.mjs';
import { codeOnPc, codeOnPhone, enrolPhone, identifyOnPc, phone, typeOnPc } from './phones.mjs';


test('別紙2: 2D code, the phone registers a passkey, the PC shows completion at once; replacing asks first', async () => {
  const platform = await startPlatform();
  const pcBrowser = await launchBrowser();
  const phones = [];
  try {
    const holder = platform.pki.holders[0];
    const origin = platform.server.origin;
    const pc = await pcBrowser.context.newPage();
    const problems = watchForProblems(pc);
    await platform.cards.insert('hpki', holder.hpki_id);
    await identifyOnPc(pc, origin, holder, 'smartphone-01-ready');
    const first = await codeOnPc(pc);
    assert.match(first.url, new RegExp(`^${origin}/enrol#[A-Za-z0-9_-]{43}$`));
    assert.ok(await pc.locator('.qr svg').count(), 'the 2D code is drawn');
    await pc.locator('#countdown').filter({ hasText: /有効期限まで残り \d+分\d{2}秒/ }).waitFor();
    await capture(pc, 'smartphone-02-code');

    const ph = await phone();
    phones.push(ph);
    await enrolPhone(ph, first.url, holder, pc, {
      confirmPhone: 'smartphone-03-phone-confirm-code',
      confirmPc: 'smartphone-03-pc-confirm',
      pcOpened: 'smartphone-03-pc-opened',
      login: 'smartphone-04-phone-login', label: 'smartphone-05-phone-label', done: 'smartphone-06-phone-done',
    });
    await screen(pc, 'done');
    assert.match(await pc.locator('main').textContent(), /スマートフォンの登録が完了しました。ブラウザを終了してください。/);
    await capture(pc, 'smartphone-07-pc-done');
    assert.equal((await ph.credentials()).length, 1, 'one passkey on the phone');

    // A second registration: the PC asks the guide's question first; いいえ changes nothing.
    await identifyOnPc(pc, origin, holder);
    await screen(pc, 'ask_replace');
    await pc.getByText('デバイスがすでに登録済みとなっています。現在のデバイスを削除して再度登録をし直しますか?').waitFor();
    await capture(pc, 'smartphone-08-ask-replace');
    await pc.getByRole('button', { name: 'いいえ' }).click();
    await screen(pc, 'kept_current');

    // はい: a code for the new phone; the old one is revoked when the new one is committed.
    await identifyOnPc(pc, origin, holder);
    await screen(pc, 'ask_replace');
    await pc.getByRole('button', { name: 'はい' }).click();
    const second = await codeOnPc(pc);
    assert.notEqual(second.url, first.url);
    const newPhone = await phone();
    phones.push(newPhone);
    await enrolPhone(newPhone, second.url, holder, pc);
    await screen(pc, 'done');
    await pc.getByText('以前に登録されていたスマートフォンは、認証に利用できなくなりました。').waitFor();
    await capture(pc, 'smartphone-09-replaced');

    // The used link cannot be opened again, on any phone.
    const third = await phone();
    phones.push(third);
    await third.page.goto(first.url);
    await screen(third.page, 'failed');
    assert.match(await third.page.locator('[role=alert]').getAttribute('data-error'), /enrolment_(used|cancelled|other_device)/);
    await capture(third.page, 'smartphone-err-used-link');

    // The PC's live-event stream ends with its session (logout at completion); a reconnect the
    // next navigation cuts short is not a defect.
    const expected = /the server responded with a status of (401|409)|request failed: \S+\/api\/smartphone\/enrolments\/current\/events net::ERR_ABORTED/;
    assert.deepEqual(problems.filter((p) => !expected.test(p)), []);
  } finally {
    for (const p of phones) await p.close();
    await pcBrowser.close();
    await platform.stop();
  }
});

test('別紙2: a code nobody opens expires on the PC and a new one can be issued', async () => {
  const platform = await startPlatform({ serverEnv: { MAHPKI_ENROLMENT_TTL_SECS: '4' } });
  const pcBrowser = await launchBrowser();
  try {
    const holder = platform.pki.holders[1];
    const pc = await pcBrowser.context.newPage();
    await platform.cards.insert('hpki', holder.hpki_id);
    await identifyOnPc(pc, platform.server.origin, holder);
    const first = await codeOnPc(pc);
    await screen(pc, 'expired');
    await pc.getByRole('heading', { name: '有効期限が切れました' }).waitFor();
    await capture(pc, 'smartphone-10-expired');
    await pc.getByRole('button', { name: '二次元コードを再発行' }).click();
    const second = await codeOnPc(pc);
    assert.notEqual(second.url, first.url);

    // The expired link, opened late on a phone, says so.
    const ph = await phone();
    try {
      await ph.page.goto(first.url);
      await screen(ph.page, 'failed');
      assert.match(await ph.page.locator('[role=alert]').getAttribute('data-error'), /enrolment_(expired|cancelled)/);
      await capture(ph.page, 'smartphone-err-expired-link');
    } finally {
      await ph.close();
    }
  } finally {
    await pcBrowser.close();
    await platform.stop();
  }
});

test('別紙2 across two server processes on one PostgreSQL: the PC on one, the phone on the other', async () => {
  const platform = await startPlatform({ postgres: true, nodes: 2 });
  const pcBrowser = await launchBrowser();
  let ph;
  try {
    const holder = platform.pki.holders[2];
    const pc = await pcBrowser.context.newPage();
    await platform.cards.insert('hpki', holder.hpki_id);
    await identifyOnPc(pc, platform.server.origin, holder);
    const { url } = await codeOnPc(pc);
    const { hits } = platform.server.balancer;
    assert.equal(hits[1], 0, 'nothing reached the second process before the phone');
    // The load balancer sends every request of the phone's browser to the second process.
    ph = await phone();
    await ph.page.context().setExtraHTTPHeaders({ 'x-mahpki-node': '1' });
    await enrolPhone(ph, url, holder, pc);
    // The completion the second process committed reaches the PC's stream on the first one.
    await screen(pc, 'done');
    await capture(pc, 'smartphone-11-two-processes-done');
    assert.ok(hits[1] >= 4, `the phone's requests reached the second process (${hits[1]})`);
  } finally {
    await ph?.close();
    await pcBrowser.close();
    await platform.stop();
  }
});

test('別紙2: three wrong confirmation codes kill the 2D code; the PC and the phone both say so', async () => {
  const platform = await startPlatform();
  const pcBrowser = await launchBrowser();
  let ph;
  try {
    const holder = platform.pki.holders[0];
    const pc = await pcBrowser.context.newPage();
    await platform.cards.insert('hpki', holder.hpki_id);
    await identifyOnPc(pc, platform.server.origin, holder);
    const { url } = await codeOnPc(pc);
    ph = await phone();
    await ph.page.goto(url);
    await screen(ph.page, 'login');
    const right = await codeOnPhone(ph.page);
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    await screen(pc, 'confirm');
    await pc.getByText('スマートフォンに表示されている確認コード(6桁の数字)を入力し').waitFor();
    await capture(pc, 'smartphone-12-confirm');
    await typeOnPc(pc, wrong);
    await pc.getByText('確認コードが正しくありません。あと2回入力できます。').waitFor();
    await capture(pc, 'smartphone-13-confirm-wrong');
    await typeOnPc(pc, wrong);
    await pc.getByText('確認コードが正しくありません。あと1回入力できます。').waitFor();
    await typeOnPc(pc, wrong);
    await screen(pc, 'confirm_failed');
    await pc.locator('[data-error="confirmation_failed"]').waitFor();
    await capture(pc, 'smartphone-14-confirm-failed');
    // The phone is told, and never offers 登録.
    await ph.page.locator('section[data-step="failed"] [data-error="confirmation_failed"]').waitFor();
    assert.equal(await ph.page.getByRole('button', { name: '登録' }).count(), 0);
    await capture(ph.page, 'smartphone-err-confirm-failed-phone');
    // Nothing bound; a new code starts afresh.
    const shown = JSON.parse(await platform.cli('identity', 'show', holder.hpki_id));
    assert.equal(shown.phones.length, 0);
    await pc.getByRole('button', { name: '二次元コードを再発行' }).click();
    await codeOnPc(pc);
  } finally {
    await ph?.close();
    await pcBrowser.close();
    await platform.stop();
  }
});

test('別紙2: a phone that opened a captured 2D code first cannot finish; the holder\'s phone is refused and told why', async () => {
  const platform = await startPlatform();
  const pcBrowser = await launchBrowser();
  const phones = [];
  try {
    const holder = platform.pki.holders[0];
    const pc = await pcBrowser.context.newPage();
    await platform.cards.insert('hpki', holder.hpki_id);
    await identifyOnPc(pc, platform.server.origin, holder);
    const { url } = await codeOnPc(pc);
    // Someone photographed the 2D code and opened it first: the code shows on their phone only.
    const attacker = await phone();
    phones.push(attacker);
    await attacker.page.goto(url);
    await screen(attacker.page, 'login');
    const attackersCode = await codeOnPhone(attacker.page);
    assert.equal(await attacker.page.getByRole('button', { name: '登録' }).count(), 0);
    // The holder's own phone is refused: the code belongs to another phone.
    const mine = await phone();
    phones.push(mine);
    await mine.page.goto(url);
    await mine.page.locator('section[data-step="failed"] [data-error="enrolment_other_device"]').waitFor();
    await capture(mine.page, 'smartphone-err-captured-code-holder');
    // The PC asks for a code the holder cannot read; whatever is typed, the attacker never
    // gets to register, and three wrong entries end it.
    assert.equal(await pc.getByText(attackersCode).count(), 0, 'the PC never shows the code');
    const guess = (k) => String((Number(attackersCode) + k) % 1_000_000).padStart(6, '0');
    await typeOnPc(pc, guess(1));
    await pc.getByText('あと2回入力できます。').waitFor();
    await typeOnPc(pc, guess(2));
    await pc.getByText('あと1回入力できます。').waitFor();
    await typeOnPc(pc, guess(3));
    await screen(pc, 'confirm_failed');
    await capture(pc, 'smartphone-15-captured-code-pc');
    await attacker.page.locator('section[data-step="failed"] [data-error="confirmation_failed"]').waitFor();
    await capture(attacker.page, 'smartphone-err-captured-code-attacker');
    const shown = JSON.parse(await platform.cli('identity', 'show', holder.hpki_id));
    assert.equal(shown.phones.length, 0, 'nothing bound');
  } finally {
    for (const p of phones) await p.close();
    await pcBrowser.close();
    await platform.stop();
  }
});
