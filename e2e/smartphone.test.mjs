// 別紙2 end to end with two browsers, the PC and the phone: the PC identifies the holder with the
// HPKI card (real helper, virtual card behind pcscd), shows the 2D code; the phone, with
// Chromium's virtual platform authenticator, opens the code's link, registers a passkey and
// confirms the label; the PC shows completion pushed by the server (SSE), never polled.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launchBrowser, screen, screenshotPath, startPlatform, watchForProblems } from './harness.mjs';
import { codeOnPc, enrolPhone, identifyOnPc, phone } from './phones.mjs';


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
    assert.match(first.url, new RegExp(`^${origin}/enroll#[A-Za-z0-9_-]{43}$`));
    assert.match(first.code, /^\d{4,8}$/);
    assert.ok(await pc.locator('.qr svg').count(), 'the 2D code is drawn');
    await pc.locator('#countdown').filter({ hasText: /有効期限まで残り \d+分\d{2}秒/ }).waitFor();
    await pc.screenshot({ path: screenshotPath('smartphone-02-code'), fullPage: true });

    const ph = await phone();
    phones.push(ph);
    const opened = enrolPhone(ph, first.url, holder, first.code, {
      login: 'smartphone-04-phone-login', label: 'smartphone-05-phone-label', done: 'smartphone-06-phone-done',
    });
    // Awaited below; marked handled now so a failure cannot end the test before its cleanup.
    opened.catch(() => {});
    // Pushed to the PC as soon as the phone opened the link.
    await screen(pc, 'opened');
    await pc.getByText('スマートフォンで操作を続けてください').waitFor();
    await pc.screenshot({ path: screenshotPath('smartphone-03-pc-opened'), fullPage: true });
    await opened;
    await screen(pc, 'done');
    assert.match(await pc.locator('main').textContent(), /スマートフォンの登録が完了しました。ブラウザを終了してください。/);
    await pc.screenshot({ path: screenshotPath('smartphone-07-pc-done'), fullPage: true });
    assert.equal((await ph.credentials()).length, 1, 'one passkey on the phone');

    // A second registration: the PC asks the guide's question first; いいえ changes nothing.
    await identifyOnPc(pc, origin, holder);
    await screen(pc, 'ask_replace');
    await pc.getByText('デバイスがすでに登録済みとなっています。現在のデバイスを削除して再度登録をし直しますか?').waitFor();
    await pc.screenshot({ path: screenshotPath('smartphone-08-ask-replace'), fullPage: true });
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
    await enrolPhone(newPhone, second.url, holder, second.code);
    await screen(pc, 'done');
    await pc.getByText('以前に登録されていたスマートフォンは、認証に利用できなくなりました。').waitFor();
    await pc.screenshot({ path: screenshotPath('smartphone-09-replaced'), fullPage: true });

    // The used link cannot be opened again, on any phone.
    const third = await phone();
    phones.push(third);
    await third.page.goto(first.url);
    await screen(third.page, 'failed');
    assert.match(await third.page.locator('[role=alert]').getAttribute('data-error'), /enrolment_(used|cancelled|other_device)/);
    await third.page.screenshot({ path: screenshotPath('smartphone-err-used-link'), fullPage: true });

    const expected = /the server responded with a status of (401|409)/;
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
    await pc.screenshot({ path: screenshotPath('smartphone-10-expired'), fullPage: true });
    await pc.getByRole('button', { name: '二次元コードを再発行' }).click();
    const second = await codeOnPc(pc);
    assert.notEqual(second.url, first.url);

    // The expired link, opened late on a phone, says so.
    const ph = await phone();
    try {
      await ph.page.goto(first.url);
      await screen(ph.page, 'failed');
      assert.match(await ph.page.locator('[role=alert]').getAttribute('data-error'), /enrolment_(expired|cancelled)/);
      await ph.page.screenshot({ path: screenshotPath('smartphone-err-expired-link'), fullPage: true });
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
    const { url, code } = await codeOnPc(pc);
    const { hits } = platform.server.balancer;
    assert.equal(hits[1], 0, 'nothing reached the second process before the phone');
    // The load balancer sends every request of the phone's browser to the second process.
    ph = await phone();
    await ph.page.context().setExtraHTTPHeaders({ 'x-mahpki-node': '1' });
    await enrolPhone(ph, url, holder, code);
    // The completion the second process committed reaches the PC's stream on the first one.
    await screen(pc, 'done');
    await pc.screenshot({ path: screenshotPath('smartphone-11-two-processes-done'), fullPage: true });
    assert.ok(hits[1] >= 4, `the phone's requests reached the second process (${hits[1]})`);
  } finally {
    await ph?.close();
    await pcBrowser.close();
    await platform.stop();
  }
});
