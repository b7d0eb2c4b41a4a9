// The card stack without the web app: real server, real helper (PC/SC build), virtual cards
// behind the real pcscd + vpcd. If this fails, the browser flows cannot pass either.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { READER, startPlatform } from './harness.mjs';

let platform;

before(async () => {
  platform = await startPlatform({ seed: 1 });
});

after(async () => {
  await platform?.stop();
});

/** What the helper reports for the vpcd reader the cards use. */
async function cardInReader() {
  const status = await platform.helper.status();
  assert.equal(status.service, 'mahpki-helper');
  const reader = status.readers.find((r) => r.name === READER);
  assert.ok(reader, `helper lists no ${READER}: ${JSON.stringify(status)}`);
  return reader.card;
}

test('the helper sees the HPKI card, the My Number card, and the empty reader', async () => {
  const holder = platform.pki.holders[0];
  assert.equal(await cardInReader(), 'empty');
  assert.equal(await platform.cards.insert('hpki', holder.hpki_id), `ok inserted hpki/${holder.hpki_id}/${holder.hpki_profile}`);
  assert.equal(await cardInReader(), 'hpki');
  assert.equal(await platform.cards.insert('jpki', holder.hpki_id), `ok inserted jpki/${holder.hpki_id}`);
  assert.equal(await cardInReader(), 'jpki');
  assert.equal(await platform.cards.ctl('status'), `ok jpki/${holder.hpki_id}`);
  await platform.cards.remove();
  assert.equal(await cardInReader(), 'empty');
  assert.equal(await platform.cards.ctl('status'), 'ok empty');
});

test('cardsim refuses an unknown holder', async () => {
  await assert.rejects(platform.cards.ctl('insert jpki HP9999999999'), /unknown card/);
});

test('the server knows the test PKI holders', async () => {
  const ids = (await platform.cli('identity', 'list')).trim().split('\n').map((l) => JSON.parse(l).hpki_id);
  assert.deepEqual(ids.sort(), platform.pki.holders.map((h) => h.hpki_id).sort());
  // The server's pages may call this helper, and only it (CSP connect-src).
  const health = await fetch(`${platform.server.origin}/api/health`);
  assert.equal(health.status, 200);
  assert.match(health.headers.get('content-security-policy'), new RegExp(`connect-src 'self' ${platform.helper.origin};`));
});

test('the helper refuses a card operation from a foreign origin', async () => {
  const r = await fetch(`${platform.helper.origin}/v1/operations`, {
    method: 'POST',
    headers: { Origin: 'http://evil.example', 'Content-Type': 'application/json' },
    body: JSON.stringify({ operation: 'authenticate', card: 'jpki', challenge: 'A'.repeat(43) }),
  });
  assert.equal(r.status, 403);
  assert.equal((await r.json()).error.code, 'foreign_origin');
  assert.equal(r.headers.get('access-control-allow-origin'), null);
});
