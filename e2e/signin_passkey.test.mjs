// The スマートフォン way of the daily sign-in end to end, with the real server and phones with
// Chromium's virtual platform authenticator (a discoverable passkey with user verification):
// on the phone itself with no 本人ID typed; a PC signed in through the phone with two browsers,
// the phone's confirmation code typed on the PC; a wrong code costing a try; and the browser's
// own passkey button on the sign-in page.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  NO_RATE_LIMIT, launchBrowser, screen, capture, serverConfig, startPlatform, watchForProblems,
} from './harness.mjs';
import { codeOnPc, codeOnPhone, enrolPhone, fitsPhone, identifyOnPc, phone, typeOnPc } from './phones.mjs';

/** This page's signing session as the server has it (`GET /api/signin`). */
async function signedIn(page) {
  return page.evaluate(async () => {
    const r = await fetch('/api/signin');
    return { status: r.status, body: await r.json() };
  });
}

test('スマートフォン sign-in: on the phone itself, and a PC through the phone with the confirmation code', async () => {
  const config = await serverConfig({ top: NO_RATE_LIMIT });
  const platform = await startPlatform({ serverEnv: { MAHPKI_CONFIG: config } });
  const browsers = [];
  try {
    const holder = platform.pki.holders[0];
    const origin = platform.server.origin;
    // The holder bound the phone with the HPKI card (別紙2): a discoverable passkey.
    const cardPc = await launchBrowser();
    browsers.push(cardPc);
    const enrolPage = await cardPc.context.newPage();
    await platform.cards.insert('hpki', holder.hpki_id);
    await identifyOnPc(enrolPage, origin, holder);
    const enrolment = await codeOnPc(enrolPage);
    const ph = await phone();
    browsers.push(ph);
    await enrolPhone(ph, enrolment.url, holder, enrolPage);
    const [credential] = await ph.credentials();
    assert.equal(credential.isResidentCredential, true, 'registered as a discoverable credential');
    await platform.cards.remove();

    // On the phone itself: no 本人ID, one button, the biometric check, signed in.
    const problems = watchForProblems(ph.page);
    await ph.page.goto(`${origin}/signin/phone`);
    await screen(ph.page, 'ready');
    await ph.page.getByText('本人IDの入力は不要です。').waitFor();
    assert.equal(await ph.page.locator('input').count(), 0, 'nothing to type');
    await fitsPhone(ph.page);
    await capture(ph.page, 'signin-phone-01-ready');
    await ph.page.getByRole('button', { name: 'パスキーでサインイン' }).click();
    await ph.page.waitForURL(`${origin}/account`);
    const mine = await signedIn(ph.page);
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    assert.equal(mine.body.factor, 'passkey');
    assert.equal(mine.body.holder.hpki_id, holder.hpki_id);

    // From a PC (another browser): the 2D code, the phone's check, its code typed on the PC.
    const pcBrowser = await launchBrowser();
    browsers.push(pcBrowser);
    const pc = await pcBrowser.context.newPage();
    const pcProblems = watchForProblems(pc);
    await pc.goto(`${origin}/signin/smartphone?continue=/oidc/none`);
    const code = await codeOnPc(pc, 'show-code', '#signin-link');
    assert.match(code.url, new RegExp(`^${origin}/signin/phone#[A-Za-z0-9_-]{43}$`));
    await pc.getByRole('button', { name: 'このパソコンでパスキーを使う' }).waitFor();
    await capture(pc, 'signin-pc-01-code');
    await ph.page.goto(code.url);
    await screen(ph.page, 'ready');
    assert.doesNotMatch(ph.page.url(), /#/, 'the token left the address bar');
    await ph.page.getByText('パソコンでサインインします。').waitFor();
    await capture(ph.page, 'signin-phone-02-for-pc');
    await screen(pc, 'opened');
    await capture(pc, 'signin-pc-02-opened');
    await ph.page.getByRole('button', { name: 'パスキーでサインイン' }).click();
    await screen(ph.page, 'confirming');
    const shown = await codeOnPhone(ph.page);
    await capture(ph.page, 'signin-phone-03-code');
    // A wrong code first: it costs a try and signs nobody in.
    const wrong = String((Number(shown) + 1) % 1_000_000).padStart(6, '0');
    await typeOnPc(pc, wrong);
    await pc.getByText('あと2回入力できます。').waitFor();
    await capture(pc, 'signin-pc-03-wrong-code');
    assert.equal((await signedIn(pc)).status, 401);
    // The right one: this answer signs the PC in, and it goes on to where it came from.
    await typeOnPc(pc, shown, 'signin-pc-04-confirm');
    await pc.waitForURL(`${origin}/oidc/none`);
    const theirs = await signedIn(pc);
    assert.equal(theirs.status, 200, JSON.stringify(theirs.body));
    assert.equal(theirs.body.factor, 'passkey');
    await screen(ph.page, 'pc-signed-in');
    await capture(ph.page, 'signin-phone-04-pc-signed-in');

    // The browser's own passkey on the sign-in page (here the phone's browser, which holds one).
    await ph.page.goto(`${origin}/signin/smartphone`);
    await screen(ph.page, 'show-code');
    await ph.page.getByRole('button', { name: 'このパソコンでパスキーを使う' }).click();
    await ph.page.waitForURL(`${origin}/account`);
    assert.equal((await signedIn(ph.page)).body.factor, 'passkey');

    // Leaving a page for the next one aborts its open event stream; nothing else may fail.
    const real = (p) => !/\/events net::ERR_ABORTED$/.test(p);
    assert.deepEqual(problems.filter(real), []);
    // On the PC the wrong code answers 400, `/api/signin` before the right one 401 (not signed
    // in yet), and the `/oidc/` step it goes on to is the OIDC branch's (404 here).
    const expected = /the server responded with a status of (400|401|404)/;
    assert.deepEqual(pcProblems.filter(real).filter((p) => !expected.test(p)), []);
  } finally {
    for (const b of browsers.reverse()) await b.close().catch(() => {});
    await platform.stop();
  }
});
