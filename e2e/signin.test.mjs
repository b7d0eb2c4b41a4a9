// The sign-in page end to end (issue 12): the real app in Chromium, the real server, the real
// local helper and virtual cards behind the real pcscd + vpcd. The HPKI card way and the My Number
// card way (after 別紙1 bound the card), the signed-in state, sign-out, the way back to a relying
// service (`?continue=/oidc/…`), and a card nobody registered.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  enterPin, launchBrowser, screen, capture, startPlatform, until, watchForProblems,
} from './harness.mjs';

/** Runs `body` with a fresh platform and browser, and checks the page stayed clean. */
async function withPlatform(body) {
  const platform = await startPlatform();
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    const problems = watchForProblems(page);
    await body({ platform, page, holders: platform.pki.holders });
    // Refusals the flow expects (not signed in yet: 401; an unregistered card: 403; the made-up
    // /oidc/authorize address the page goes back to: the OpenID Provider's answer for a client
    // it does not know, 400, and what that error page asks for, 404) are logged by Chromium;
    // anything else is a defect.
    const expected = /the server responded with a status of (400|401|403|404)/;
    const unexpected = problems.filter((p) => !expected.test(p));
    assert.deepEqual(unexpected, []);
  } finally {
    await browser.close();
    await platform.stop();
  }
}

/** The signing session of this browser as the server sees it (status and body). */
async function signinState(page, origin) {
  const res = await page.request.get(`${origin}/api/signin`);
  return { status: res.status(), body: res.ok() ? await res.json() : undefined };
}

/** The audit log's last rows, as the operator's CLI prints them (one JSON object a line). */
async function auditRows(platform) {
  return (await platform.cli('audit', 'tail')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** 別紙1: binds `holder`'s My Number card, as the existing flow does. */
async function bindMyNumber(platform, page, holder) {
  await platform.cards.insert('hpki', holder.hpki_id);
  await page.goto(`${platform.server.origin}/mynumber`);
  await screen(page, 'ready');
  await page.getByRole('button', { name: 'HPKIカードで登録' }).click();
  await enterPin(page, holder.hpki_pin);
  await screen(page, 'identified');
  await platform.cards.insert('jpki', holder.hpki_id);
  await page.getByRole('button', { name: 'マイナンバーカードを登録' }).click();
  await enterPin(page, holder.jpki_auth_pin);
  await screen(page, 'done');
}

test('sign-in: the HPKI card from the top page, the signed-in state, sign-out', async () => {
  await withPlatform(async ({ platform, page, holders }) => {
    const holder = holders[0];
    const origin = platform.server.origin;
    await platform.cards.insert('hpki', holder.hpki_id);
    await page.goto(`${origin}/`);
    await page.getByRole('link', { name: 'サインイン(1日1回の本人認証)' }).click();
    await screen(page, 'choose');
    await page.locator('.readers').filter({ hasText: 'HPKIカード' }).waitFor();
    const text = await page.locator('main').textContent();
    assert.ok(text.indexOf('(i) HPKIカード') < text.indexOf('(ii) マイナンバーカード'));
    assert.ok(text.indexOf('(ii) マイナンバーカード') < text.indexOf('(iii) スマートフォン'));
    assert.equal(await page.locator('a#signin-smartphone').getAttribute('href'), '/signin/smartphone');
    await capture(page, 'signin-01-choose');

    await page.getByRole('button', { name: 'HPKIカードでサインイン' }).click();
    await enterPin(page, holder.hpki_pin, 'signin-02-hpki-pin-window');
    // Without a relying service to go back to, the holder's page (another branch's) is next.
    await until(() => new URL(page.url()).pathname === '/account', 'the holder page', 30_000);
    const state = await signinState(page, origin);
    assert.equal(state.status, 200);
    assert.equal(state.body.factor, 'hpki_card');
    assert.equal(state.body.holder.hpki_id, holder.hpki_id);
    assert.equal(state.body.until - state.body.since, 18 * 3600);

    // Back on the sign-in page: who is signed in, until when, and サインアウト.
    await page.goto(`${origin}/signin`);
    await screen(page, 'signed_in');
    assert.equal((await page.locator('#hpki-id').textContent()).trim(), holder.hpki_id);
    assert.match(await page.locator('#signin-factor').textContent(), /HPKIカード/);
    assert.match(await page.locator('#signin-until').textContent(), /^\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d\d$/);
    await capture(page, 'signin-03-signed-in');

    await page.getByRole('button', { name: 'サインアウト' }).click();
    await screen(page, 'signed_out');
    await capture(page, 'signin-04-signed-out');
    assert.equal((await signinState(page, origin)).status, 401);
    const audit = await auditRows(platform);
    assert.ok(audit.some((r) => r.action === 'signin' && r.outcome === 'ok' && r.detail === 'factor=hpki_card'));
    assert.ok(audit.some((r) => r.action === 'signin.end' && r.outcome === 'ok'));
  });
});

test('sign-in: the My Number card bound by 別紙1 signs in and goes back to the relying service', async () => {
  await withPlatform(async ({ platform, page, holders }) => {
    const holder = holders[0];
    const origin = platform.server.origin;
    await bindMyNumber(platform, page, holder);
    // 別紙1 ended its page session; nobody is signed in on this browser.
    assert.equal((await signinState(page, origin)).status, 401);

    const back = '/oidc/authorize?client_id=demo&state=s1';
    await page.goto(`${origin}/signin?continue=${encodeURIComponent(back)}`);
    await screen(page, 'choose');
    await page.locator('.readers').filter({ hasText: 'マイナンバーカード' }).waitFor();
    await page.getByRole('button', { name: 'マイナンバーカードでサインイン' }).click();
    await enterPin(page, holder.jpki_auth_pin, 'signin-05-jpki-pin-window');
    await until(() => {
      const u = new URL(page.url());
      return u.pathname + u.search === back;
    }, 'the way back to the relying service', 30_000);
    const state = await signinState(page, origin);
    assert.equal(state.status, 200);
    assert.equal(state.body.factor, 'mynumber');
    assert.equal(state.body.holder.hpki_id, holder.hpki_id);
    // The My Number card signs in; it does not identify the page session (別紙1/2 need the HPKI card).
    assert.equal((await page.request.get(`${origin}/api/session`)).status(), 401);

    // Signed in, with a continue that leaves the site: ignored, the button says the holder's page.
    await page.goto(`${origin}/signin?continue=${encodeURIComponent('https://evil.example/oidc/')}`);
    await screen(page, 'signed_in');
    assert.match(await page.locator('#signin-factor').textContent(), /マイナンバーカード/);
    await page.getByRole('button', { name: '登録状況へ進む' }).waitFor();
    await capture(page, 'signin-06-signed-in-mynumber');

    // Revoking the binding ends the session begun with it.
    const list = (await platform.cli('binding', 'list')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const binding = list.find((b) => b.hpki_id === holder.hpki_id);
    await platform.cli('binding', 'revoke', String(binding.id), '--reason', 'e2e');
    assert.equal((await signinState(page, origin)).status, 401);
    const audit = await auditRows(platform);
    assert.ok(audit.some((r) => r.action === 'signin' && r.outcome === 'ok' && r.detail === 'factor=mynumber'
      && r.hpki_id === holder.hpki_id));
  });
});

test('sign-in: a My Number card nobody registered is refused with the way to register it', async () => {
  await withPlatform(async ({ platform, page, holders }) => {
    const holder = holders[1];
    const origin = platform.server.origin;
    await platform.cards.insert('jpki', holder.hpki_id);
    await page.goto(`${origin}/signin`);
    await screen(page, 'choose');
    await page.getByRole('button', { name: 'マイナンバーカードでサインイン' }).click();
    await enterPin(page, holder.jpki_auth_pin);
    await screen(page, 'failed');
    assert.equal(await page.locator('[role=alert][data-error]').getAttribute('data-error'), 'my_number_not_bound');
    assert.match(await page.locator('main').textContent(), /別紙1の手順でマイナンバーカードを登録してください/);
    await capture(page, 'signin-07-err-not-bound');
    assert.equal((await signinState(page, origin)).status, 401);
    const audit = await auditRows(platform);
    assert.ok(audit.some((r) => r.action === 'signin' && r.outcome === 'my_number_not_bound' && r.detail === 'factor=mynumber'));
    await page.getByRole('button', { name: 'もう一度試す' }).click();
    await screen(page, 'choose');
  });
});
