// The PC and phone steps the 別紙2 tests share: identifying on the PC with the HPKI card, a phone
// with Chromium's virtual platform authenticator (CDP WebAuthn), the phone's enrolment screens,
// reading a 2D code off the PC, and the confirmation: the holder reads the code the phone shows
// and types it on the PC.
import assert from 'node:assert/strict';
import { enterPin, launchBrowser, screen, capture } from './harness.mjs';

/** Index → 「スマートフォン(タブレットを含む)をご利用の方はこちら」 → 「HPKIカードで登録または変更」 → PIN. */
export async function identifyOnPc(pc, origin, holder, shot) {
  await pc.goto(`${origin}/`);
  await pc.getByRole('link', { name: 'スマートフォン(タブレットを含む)をご利用の方はこちら' }).click();
  await pc.locator('#smartphone').getByRole('link', { name: 'HPKIカードで登録または変更' }).click();
  await screen(pc, 'ready');
  if (shot) await capture(pc, shot);
  await pc.getByRole('button', { name: 'HPKIカードで登録または変更' }).click();
  await enterPin(pc, holder.hpki_pin);
}

/** A phone: a small screen and a platform authenticator with biometrics (CDP WebAuthn). */
export async function phone() {
  const browser = await launchBrowser({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true });
  const page = await browser.context.newPage();
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
  return {
    page,
    async credentials() {
      return (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    },
    close: () => browser.close(),
  };
}

/** A phone screen fits the phone: no sideways scrolling, and its buttons are big enough to tap. */
export async function fitsPhone(page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  for (const b of await page.locator('main button').all()) {
    const box = await b.boundingBox();
    assert.ok(box.height >= 44, `${await b.textContent()} is ${box.height}px tall`);
  }
}

/** The confirmation code the phone shows (and only the phone). */
export async function codeOnPhone(page) {
  const code = (await page.locator('#confirm-code-shown').textContent()).trim();
  assert.match(code, /^\d{6}$/);
  await page.getByText('他の人には絶対に教えないでください').waitFor();
  return code;
}

/** The holder types `code` on the PC's confirmation screen (both flows) and presses 確認. */
export async function typeOnPc(pc, code, shot) {
  await screen(pc, 'confirm');
  await pc.locator('#confirm-code').fill(code);
  if (shot) await capture(pc, shot);
  await pc.getByRole('button', { name: '確認', exact: true }).click();
}

/** The phone side of ④–⑧: login screen with the 本人ID and the confirmation code, which the
 * holder types on `pc` (none for a CA's link), then 登録, biometrics, label OK (or `label`
 * typed in), done. */
export async function enrolPhone(ph, url, holder, pc, shots = {}, label = undefined) {
  await ph.page.goto(url);
  await screen(ph.page, 'login');
  assert.equal(await ph.page.locator('#username').inputValue(), holder.hpki_id);
  assert.equal(await ph.page.locator('#username').isEditable(), false, 'Username is read-only');
  // The token left the address bar as soon as the page read it.
  assert.doesNotMatch(ph.page.url(), /#/);
  await fitsPhone(ph.page);
  if (pc) {
    // No 登録 before the PC entered the code: the phone only shows it.
    const code = await codeOnPhone(ph.page);
    assert.equal(await ph.page.getByRole('button', { name: '登録' }).count(), 0);
    if (shots.confirmPhone) await capture(ph.page, shots.confirmPhone);
    await typeOnPc(pc, code, shots.confirmPc);
    await screen(pc, 'opened');
    if (shots.pcOpened) await capture(pc, shots.pcOpened);
    // Pushed to the phone: now it may register.
    await ph.page.getByText('PCで確認コードが確認されました。').waitFor();
  } else {
    // A CA's link: no PC, no code, and no word of a PC.
    assert.equal(await ph.page.locator('#confirm-code-shown').count(), 0);
    assert.doesNotMatch(await ph.page.locator('main').textContent(), /PC/);
  }
  if (shots.login) await capture(ph.page, shots.login);
  await ph.page.getByRole('button', { name: '登録' }).click();
  await screen(ph.page, 'label');
  // In the page's language, with the platform that tells this phone apart, and the day.
  assert.match(await ph.page.locator('#label').inputValue(), /^スマートフォン \(.+\) \d{4}-\d{2}-\d{2}$/);
  if (label) await ph.page.locator('#label').fill(label);
  if (shots.label) await capture(ph.page, shots.label);
  await ph.page.getByRole('button', { name: 'OK' }).click();
  await screen(ph.page, 'done');
  assert.match(await ph.page.locator('main').textContent(), /登録が完了しました。/);
  if (!pc) assert.doesNotMatch(await ph.page.locator('main').textContent(), /PC/);
  if (shots.done) await capture(ph.page, shots.done);
}

/** The 2D code on the PC's screen `step`: its link (the 2D code's content). The PC shows no
 * confirmation code: only the phone does. */
export async function codeOnPc(pc, step = 'show_code', link = '#enrol-link') {
  await screen(pc, step);
  const url = await pc.locator(link).getAttribute('href');
  assert.equal(await pc.locator('#verification-code, #confirm-code-shown').count(), 0);
  return { url };
}
