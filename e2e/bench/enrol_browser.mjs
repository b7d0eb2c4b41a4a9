// Benchmark (make bench): the time from the phone sending its enrolment `finish` to the PC's page
// showing completion, in real Chromium on both sides with the real server: WebAuthn verification,
// the commit, the SSE push, and the PC's rendering. The PC proves the holder by the JMA path, so
// each round needs no PIN; every round replaces the phone before (はい), a new phone each time,
// and confirms it by typing the code the phone shows on the PC (not part of the timed span).
// Prints Markdown table rows; never run as a test.
import { NO_RATE_LIMIT, launchBrowser, screen, serverConfig, startPlatform, testPki } from '../harness.mjs';
import { codeOnPc, codeOnPhone, phone, typeOnPc } from '../phones.mjs';

const ROUNDS = Number(process.env.MAHPKI_BENCH_ROUNDS ?? 20);

const pki = await testPki(1);
// A benchmark logs in again every round, and replaces the phone by the JMA path, which the JMA
// path refuses unless the CA allows it (`jma_replace`; a first phone only by default).
const config = await serverConfig({
  top: NO_RATE_LIMIT,
  tables: '[ca_policy.JMA]\njma_path = true\njma_replace = true',
});
const platform = await startPlatform({ serverEnv: { MAHPKI_CONFIG: config, MAHPKI_LOG: 'warn' } });
const pcBrowser = await launchBrowser();
const push = [];
const finish = [];
try {
  const holder = pki.holders.find((h) => h.issuer === 'JMA' && !h.revoked);
  const pc = await pcBrowser.context.newPage();
  for (let i = 0; i < ROUNDS; i++) {
    await pc.goto(`${platform.server.origin}/smartphone/jma`);
    await screen(pc, 'jma_form');
    await pc.getByLabel('医籍登録番号').fill(holder.registration_number);
    await pc.getByLabel('カードID').fill(holder.hpki_card_id);
    await pc.getByRole('button', { name: '認証' }).click();
    if (i > 0) {
      await screen(pc, 'ask_replace');
      await pc.getByRole('button', { name: 'はい' }).click();
    }
    const { url } = await codeOnPc(pc);
    // The PC notes, in its own page, the moment completion is on screen.
    await pc.evaluate(() => {
      window.__doneAt = undefined;
      const seen = () => document.querySelector('section[data-step="done"]');
      new MutationObserver((_, obs) => {
        if (seen()) { window.__doneAt = performance.timeOrigin + performance.now(); obs.disconnect(); }
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    const ph = await phone();
    try {
      await ph.page.goto(url);
      await screen(ph.page, 'login');
      // The holder types the code the phone shows on the PC; the phone then offers 登録.
      await typeOnPc(pc, await codeOnPhone(ph.page));
      await ph.page.getByRole('button', { name: '登録' }).click();
      await screen(ph.page, 'label');
      const sent = ph.page.waitForRequest((r) => r.url().endsWith('/api/enrol/finish'));
      await ph.page.getByRole('button', { name: 'OK' }).click();
      const request = await sent;
      const response = await request.response();
      await screen(pc, 'done');
      const doneAt = await pc.evaluate(() => window.__doneAt);
      const t = request.timing();
      push.push(doneAt - t.startTime);
      finish.push(t.responseEnd);
      if (response.status() !== 200) throw new Error(`finish answered ${response.status()}`);
    } finally {
      await ph.close();
    }
  }
} finally {
  await pcBrowser.close();
  await platform.stop();
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return [at(0.5), at(0.95), s[s.length - 1]].map((v) => v.toFixed(1));
};
const [m1, p1, x1] = stats(push);
const [m2, p2, x2] = stats(finish);
console.log(`| phone sends finish → PC page shows completion (SQLite, one process) | ${ROUNDS} | ${m1} | ${p1} | ${x1} |`);
console.log(`| phone's finish request, sent → answer received | ${ROUNDS} | ${m2} | ${p2} | ${x2} |`);
