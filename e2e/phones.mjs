// The PC and phone steps the 別紙2 tests share: identifying on the PC with the HPKI card, a phone
// with Chromium's virtual platform authenticator (CDP WebAuthn), the phone's enrolment screens,
// and reading a code off the PC.
import assert from 'node:assert/strict';
import { enterPin, launchBrowser, screen, screenshotPath } from './harness.mjs';

/** Index → 「スマートフォン(タブレットを含む)をご利用の方はこちら」 → 「HPKIカードで登録または変更」 → PIN. */
export async function identifyOnPc(pc, origin, holder, shot) {
  await pc.goto(`${origin}/`);
  await pc.getByRole('link', { name: 'スマートフォン(タブレットを含む)をご利用の方はこちら' }).click();
  await pc.locator('#smartphone').getByRole('link', { name: 'HPKIカードで登録または変更' }).click();
  await screen(pc, 'ready');
  if (shot) await pc.screenshot({ path: screenshotPath(shot), fullPage: true });
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

/** The phone side of ④–⑧: login screen with the 本人ID, 登録, biometrics, label OK (or `label`
 * typed in), done. */
export async function enrolPhone(ph, url, holder, code, shots = {}, label = undefined) {
  await ph.page.goto(url);
  await screen(ph.page, 'login');
  assert.equal(await ph.page.locator('#username').inputValue(), holder.hpki_id);
  assert.equal(await ph.page.locator('#username').isEditable(), false, 'Username is read-only');
  // A CA's link has no PC showing a code to compare with.
  if (code !== undefined) assert.equal((await ph.page.locator('#verification-code').textContent()).trim(), code);
  // The token left the address bar as soon as the page read it.
  assert.doesNotMatch(ph.page.url(), /#/);
  await fitsPhone(ph.page);
  if (shots.login) await ph.page.screenshot({ path: screenshotPath(shots.login), fullPage: true });
  await ph.page.getByRole('button', { name: '登録' }).click();
  await screen(ph.page, 'label');
  assert.match(await ph.page.locator('#label').inputValue(), /\d{4}-\d{2}-\d{2}/);
  if (label) await ph.page.locator('#label').fill(label);
  if (shots.label) await ph.page.screenshot({ path: screenshotPath(shots.label), fullPage: true });
  await ph.page.getByRole('button', { name: 'OK' }).click();
  await screen(ph.page, 'done');
  assert.match(await ph.page.locator('main').textContent(), /登録が完了しました。/);
  if (shots.done) await ph.page.screenshot({ path: screenshotPath(shots.done), fullPage: true });
}

/** The code on the PC's screen `step`: its link (the 2D code's content) and verification code. */
export async function codeOnPc(pc, step = 'show_code', link = '#enroll-link') {
  await screen(pc, step);
  const url = await pc.locator(link).getAttribute('href');
  const code = (await pc.locator('#verification-code').textContent()).trim();
  return { url, code };
}
