// Remote signing end to end (issue 13): the demo prescription service (e2e/rp/rp.mjs) sends the
// holder to the platform's OpenID Provider, where they sign in on the clinic's PC with their
// phone (the 2D code, the phone's passkey check, its confirmation code typed on the PC; the phone
// was bound with the HPKI card beforehand, through the real helper and a virtual card behind
// pcscd + vpcd). Back at the service, 「処方箋に署名」 signs its sample prescription with the
// holder's HPKI second certificate through the CSC API v2: the key in a SoftHSM2 token, the
// certificate issued by the test PKI's CA from the server's CSR. The service verifies the
// signature with node's crypto against the credential's certificate; this test verifies it again
// on its own.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash, verify } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  NO_RATE_LIMIT, ROOT, capture, launchBrowser, screen, serverConfig, startPlatform, watchForProblems,
} from './harness.mjs';
import { codeOnPc, codeOnPhone, enrolPhone, identifyOnPc, phone, typeOnPc } from './phones.mjs';
import { startRp } from './relying.mjs';

const CARDSIM_BIN = process.env.MAHPKI_CARDSIM_BIN ?? join(ROOT, 'target', 'debug', 'cardsim');
const HSM_PIN = '135790';

/** A fresh SoftHSM2 token; the environment that points the server and its CLI at it. */
function softhsm() {
  const dir = mkdtempSync(join(tmpdir(), 'mahpki-e2e-hsm-'));
  const conf = execFileSync('bash', [join(ROOT, 'scripts', 'softhsm-token.sh'), dir, 'e2e', HSM_PIN]).toString().trim();
  return { SOFTHSM2_CONF: conf, MAHPKI_HSM_TOKEN_LABEL: 'e2e', MAHPKI_HSM_PIN: HSM_PIN };
}

/** The holder's second certificate: key and CSR by the server, issued by cardsim's CA, imported. */
async function secondCertificate(platform, hpkiId) {
  const dir = mkdtempSync(join(tmpdir(), 'mahpki-e2e-second-'));
  const csr = join(dir, `${hpkiId}.csr.pem`);
  await platform.cli('second-cert', 'request', hpkiId, '--out', csr);
  execFileSync(CARDSIM_BIN, ['second-cert', '--seed', '1', csr]);
  await platform.cli('second-cert', 'import', hpkiId, join(dir, `${hpkiId}.cert.pem`));
  const listed = JSON.parse((await platform.cli('second-cert', 'list', hpkiId)).trim().split('\n')[0]);
  assert.equal(listed.state, 'active');
  return { credential: listed.credential_id, certificate: join(dir, `${hpkiId}.cert.pem`) };
}

test('CSC: signed in with the phone from the PC, the prescription service signs a prescription with the HPKI second certificate and verifies it', async () => {
  const config = await serverConfig({ top: NO_RATE_LIMIT });
  const platform = await startPlatform({ serverEnv: { ...softhsm(), MAHPKI_CONFIG: config } });
  const browsers = [];
  let rp;
  try {
    const holder = platform.pki.holders[0];
    const origin = platform.server.origin;
    const issued = await secondCertificate(platform, holder.hpki_id);
    rp = await startRp(platform);

    // Some days before: the holder bound the phone with the HPKI card (別紙2).
    const enrolPc = await launchBrowser();
    browsers.push(enrolPc);
    const enrolPage = await enrolPc.context.newPage();
    await platform.cards.insert('hpki', holder.hpki_id);
    await identifyOnPc(enrolPage, origin, holder);
    const ph = await phone();
    browsers.push(ph);
    await enrolPhone(ph, (await codeOnPc(enrolPage)).url, holder, enrolPage);
    await platform.cards.remove();

    // This morning, at the clinic's PC: the prescription service sends the holder to sign in.
    const pcBrowser = await launchBrowser();
    browsers.push(pcBrowser);
    const page = await pcBrowser.context.newPage();
    const problems = watchForProblems(page);
    await page.goto(`${rp.origin}/`);
    // Asks for `openid profile service`: the consent page says the service will sign.
    await page.locator('#login-sign').click();
    await page.waitForURL(/\/signin\?continue=/);
    // The phone's way keeps where to go back to.
    await page.locator('#signin-smartphone').click();
    await page.waitForURL(/\/signin\/smartphone\?continue=%2Foidc%2F/);
    const code = await codeOnPc(page, 'show-code', '#signin-link');
    await capture(page, 'csc-01-pc-signin-code');
    await ph.page.goto(code.url);
    await screen(ph.page, 'ready');
    await screen(page, 'opened');
    await ph.page.getByRole('button', { name: 'パスキーでサインイン' }).click();
    await screen(ph.page, 'confirming');
    await typeOnPc(page, await codeOnPhone(ph.page), 'csc-02-pc-confirm');

    // First use of this service: consent, then back at the service, signed in with the phone.
    await page.waitForURL(/\/consent\?request=/);
    await page.locator('#consent-remote-signing').waitFor();
    assert.match(await page.locator('#consent-remote-signing').textContent(), /HPKIセカンド電子証明書で電子署名/);
    await capture(page, 'csc-01-consent-signing');
    await page.getByRole('button', { name: '同意する' }).click();
    await page.waitForURL(`${rp.origin}/`);
    await page.locator('#signed-in').waitFor();
    const claim = async (name) => (await page.locator(`#signed-in ~ table td[data-claim="${name}"]`).first().textContent()).trim();
    assert.equal(await claim('sub'), holder.hpki_id);
    assert.equal(await claim('acr'), 'urn:mahpki:acr:passkey');
    await capture(page, 'csc-03-prescription');

    await page.getByRole('button', { name: /処方箋に署名/ }).click();
    await page.locator('#sign-verified, #sign-invalid, #sign-error').first().waitFor();
    assert.equal(await page.locator('#sign-error').count(), 0, await page.locator('body').textContent());
    await page.locator('#sign-verified').waitFor();
    assert.equal((await page.locator('#sign-credential').textContent()).trim(), issued.credential);
    await capture(page, 'csc-04-signed');

    // The signature checked here too, with the certificate the test CA issued.
    const prescription = await page.locator('#prescription').textContent();
    const signature = Buffer.from((await page.locator('#sign-value').textContent()).trim(), 'base64');
    const cert = new X509Certificate(readFileSync(issued.certificate));
    assert.ok(verify('sha256', Buffer.from(prescription, 'utf8'), cert.publicKey, signature));
    assert.ok(!verify('sha256', Buffer.from(`${prescription}改ざん`, 'utf8'), cert.publicKey, signature));
    assert.equal(createHash('sha256').update(prescription, 'utf8').digest('base64'), (await page.locator('#sign-hash').textContent()).trim());

    const audit = await platform.cli('audit', 'tail');
    assert.match(audit, /csc\.authorize/);
    assert.match(audit, /csc\.sign/);
    // `/api/signin` answers 401 before the sign-in; leaving the code's page aborts its stream.
    const expected = /the server responded with a status of (401|404)|\/events net::ERR_ABORTED$/;
    assert.deepEqual(problems.filter((p) => !expected.test(p)), []);
  } finally {
    await rp?.stop();
    for (const b of browsers.reverse()) await b.close().catch(() => {});
    await platform.stop();
  }
});
