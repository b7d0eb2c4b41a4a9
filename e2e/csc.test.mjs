// Remote signing end to end (issue 13): the demo prescription service (e2e/rp/rp.mjs) signs the
// holder in through the platform's OpenID Provider with the HPKI card (real helper, virtual card
// behind pcscd + vpcd), then 「処方箋に署名」 signs its sample prescription with the holder's HPKI
// second certificate through the CSC API v2: the key in a SoftHSM2 token, the certificate issued
// by the test PKI's CA from the server's CSR. The service verifies the signature with node's
// crypto against the credential's certificate; this test verifies it again on its own.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate, createHash, verify } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ROOT, capture, enterPin, freePort, launchBrowser, startPlatform, until, watchForProblems,
} from './harness.mjs';

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

async function startRp(platform) {
  const port = await freePort();
  const registered = JSON.parse(await platform.cli(
    'oidc-client', 'add', 'デモ処方システム', '--redirect-uri', `http://localhost:${port}/callback`,
  ));
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
    log: () => log,
    stop: () => new Promise((ok) => { child.once('exit', ok); child.kill('SIGTERM'); }),
  };
}

test('CSC: the prescription service signs a prescription with the HPKI second certificate and verifies it', async () => {
  const platform = await startPlatform({ serverEnv: softhsm() });
  const browser = await launchBrowser();
  let rp;
  try {
    const holder = platform.pki.holders[0];
    const issued = await secondCertificate(platform, holder.hpki_id);
    rp = await startRp(platform);
    await platform.cards.insert('hpki', holder.hpki_id);
    const page = await browser.context.newPage();
    const problems = watchForProblems(page);

    await page.goto(`${rp.origin}/`);
    // Asks for `openid profile service`: the consent page says the service will sign.
    await page.locator('#login-sign').click();
    await page.waitForURL(/\/signin\?continue=/);
    await page.getByRole('button', { name: /HPKIカード/ }).first().click();
    await enterPin(page, holder.hpki_pin, 'csc-01-pin-window');
    await page.waitForURL(/\/consent\?request=/);
    await page.locator('#consent-remote-signing').waitFor();
    assert.match(await page.locator('#consent-remote-signing').textContent(), /HPKIセカンド電子証明書で電子署名/);
    await capture(page, 'csc-01-consent-signing');
    await page.getByRole('button', { name: '同意する' }).click();
    await page.waitForURL(`${rp.origin}/`);
    await page.locator('#signed-in').waitFor();
    await capture(page, 'csc-02-prescription');

    await page.getByRole('button', { name: /処方箋に署名/ }).click();
    await page.locator('#sign-verified, #sign-invalid, #sign-error').first().waitFor();
    assert.equal(await page.locator('#sign-error').count(), 0, await page.locator('body').textContent());
    await page.locator('#sign-verified').waitFor();
    assert.equal((await page.locator('#sign-credential').textContent()).trim(), issued.credential);
    await capture(page, 'csc-03-signed');

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
    const expected = /the server responded with a status of (401|404)/;
    assert.deepEqual(problems.filter((p) => !expected.test(p)), []);
  } finally {
    await rp?.stop();
    await browser.close();
    await platform.stop();
  }
});
