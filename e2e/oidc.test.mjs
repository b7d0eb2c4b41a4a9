// OpenID Connect end to end (issue 12): a relying web app (e2e/rp/rp.mjs, on the `openid-client`
// library) sends the holder to the platform; the holder signs in with the HPKI card (real
// helper, virtual card behind pcscd + vpcd, PIN in the helper's window), consents once, and the
// app shows the ID token's claims it verified itself. Screenshots of every screen.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  capture, enterPin, expectAccessible, launchBrowser, startPlatform, watchForProblems,
} from './harness.mjs';
import { startRp } from './relying.mjs';

test('OIDC: a relying service signs a holder in with the HPKI card, consent once, claims shown', async () => {
  const platform = await startPlatform();
  const browser = await launchBrowser();
  let rp;
  try {
    rp = await startRp(platform);
    assert.equal(rp.registered.token_endpoint_auth_method, 'client_secret_basic');
    assert.match(rp.registered.client_secret, /^[A-Za-z0-9_-]{43}$/);
    const holder = platform.pki.holders[0];
    await platform.cards.insert('hpki', holder.hpki_id);
    const page = await browser.context.newPage();
    const problems = watchForProblems(page);

    await page.goto(`${rp.origin}/`);
    await capture(page, 'oidc-01-relying-service');
    await page.locator('#login').click();

    // The platform's sign-in page, come to from the service's redirect.
    await page.waitForURL(/\/signin\?continue=%2Foidc%2Fauthorize%2Fresume/);
    await capture(page, 'oidc-02-signin');
    await page.getByRole('button', { name: /HPKIカード/ }).first().click();
    await enterPin(page, holder.hpki_pin, 'oidc-03-pin-window');

    // First use of this service: the consent page names it.
    await page.waitForURL(/\/consent\?request=/);
    await page.locator('#consent-client-name').waitFor();
    assert.equal((await page.locator('#consent-client-name').textContent()).trim(), 'デモ処方システム');
    assert.match(await page.locator('main').textContent(), new RegExp(holder.hpki_id));
    // Sign-in only (`openid profile`): nothing said about signing, and the service cannot sign.
    assert.equal(await page.locator('#consent-remote-signing').count(), 0);
    await expectAccessible(page, 'oidc-consent');
    await capture(page, 'oidc-04-consent');
    await page.getByRole('button', { name: '同意する' }).click();

    // Back at the service, which verified the ID token itself.
    await page.waitForURL(`${rp.origin}/`);
    await page.locator('#signed-in').waitFor();
    const claim = async (name) => (await page.locator(`#signed-in ~ table td[data-claim="${name}"]`).first().textContent()).trim();
    assert.equal(await claim('sub'), holder.hpki_id);
    assert.equal(await claim('acr'), 'urn:mahpki:acr:hpki-card');
    assert.equal(await claim('amr'), '["sc","pin","mfa"]');
    assert.equal(await claim('name'), holder.name_kanji);
    await capture(page, 'oidc-05-signed-in');
    await page.locator('#no-signing').waitFor();

    // Again: signed in and consented, the platform sends the holder straight back.
    await page.locator('#again').click();
    await page.waitForURL(`${rp.origin}/`);
    await page.locator('#signed-in').waitFor();

    const audit = await platform.cli('audit', 'tail');
    assert.match(audit, /oidc\.consent/);
    assert.match(audit, /oidc\.token/);
    const expected = /the server responded with a status of (401|404)/;
    assert.deepEqual(problems.filter((p) => !expected.test(p)), []);
  } finally {
    await rp?.stop();
    await browser.close();
    await platform.stop();
  }
});
