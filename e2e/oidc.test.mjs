// OpenID Connect end to end (issue 12): a relying web app (e2e/rp/rp.mjs, on the `openid-client`
// library) sends the holder to the platform; the holder signs in with the HPKI card (real
// helper, virtual card behind pcscd + vpcd, PIN in the helper's window), consents once, and the
// app shows the ID token's claims it verified itself. Screenshots of every screen.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ROOT, capture, enterPin, expectAccessible, freePort, launchBrowser, startPlatform, until, watchForProblems,
} from './harness.mjs';

/** The demo relying service for `issuer`, registered as a client of the platform. */
async function startRp(platform) {
  const port = await freePort();
  const registered = JSON.parse(await platform.cli(
    'oidc-client', 'add', 'デモ処方システム', '--redirect-uri', `http://localhost:${port}/callback`,
  ));
  assert.equal(registered.token_endpoint_auth_method, 'client_secret_basic');
  assert.match(registered.client_secret, /^[A-Za-z0-9_-]{43}$/);
  const child = spawn(process.execPath, [join(ROOT, 'e2e', 'rp', 'rp.mjs')], {
    env: {
      ...process.env,
      MAHPKI_ISSUER: platform.server.origin,
      RP_CLIENT_ID: registered.client_id,
      RP_CLIENT_SECRET: registered.client_secret,
      RP_PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  await until(() => /rp listening on/.test(log) || child.exitCode !== null, 'the relying service to start', 30_000);
  assert.equal(child.exitCode, null, log);
  return {
    origin: `http://localhost:${port}`,
    clientId: registered.client_id,
    log: () => log,
    stop: () => new Promise((ok) => { child.once('exit', ok); child.kill('SIGTERM'); }),
  };
}

test('OIDC: a relying service signs a holder in with the HPKI card, consent once, claims shown', async () => {
  const platform = await startPlatform();
  const browser = await launchBrowser();
  let rp;
  try {
    rp = await startRp(platform);
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
