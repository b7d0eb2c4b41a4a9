// Starts the real mahpki server, the real local helper (PC/SC build) and virtual cards behind the
// real pcscd + vpcd on loopback, and Debian's Chromium under playwright-core. Nothing here
// downloads anything. Only one cardsim may hold vpcd's port at a time: run the files that use
// cards with --test-concurrency=1.
import { execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import AxeBuilder from '@axe-core/playwright';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..');
export const OUTPUT = process.env.MAHPKI_TEST_OUTPUT ?? join(ROOT, 'test-output', 'e2e');
const bin = (name, envName) => process.env[envName] ?? join(ROOT, 'target', 'debug', name);
const SERVER_BIN = bin('mahpki-server', 'MAHPKI_SERVER_BIN');
const HELPER_BIN = bin('mahpki-helper', 'MAHPKI_HELPER_BIN');
const CARDSIM_BIN = bin('cardsim', 'MAHPKI_CARDSIM_BIN');
const DIST = process.env.MAHPKI_DIST_DIR ?? join(ROOT, 'dist');

/** pcscd's client socket, present while a pcscd serves (as crates/cardsim/src/pcscd.rs). */
const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
/** The vpcd reader cardsim serves by default, and the TCP port its virtual card connects to. */
export const READER = 'Virtual PCD 00 00';
const VPCD_PORT = 35963;
/** pcsc-lite's reader thread polls a driver without event support this often, plus slack. */
const PCSCD_POLL_MS = 600;

// Children still running, stopped if this process ends without their stop() (a crashed test,
// Ctrl-C, node --test's timeout): no orphan keeps pcscd's vpcd port or a listening socket.
const live = new Set();
const tempDirs = new Set();
let cleanupInstalled = false;
function installCleanup() {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGTERM');
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => process.exit(128 + (sig === 'SIGINT' ? 2 : 15)));
  }
}

/** A fresh temporary directory, removed at exit unless its owner removes it first. */
function tempDir(prefix) {
  installCleanup();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

function spawnTracked(cmd, args, env, options = {}) {
  installCleanup();
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** SIGTERM (a clean shutdown), SIGKILL if it lingers; safe to call twice. */
async function stopChild(child, graceMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

// Ports handed out by this process: the kernel may give one again before its child binds it.
const givenPorts = new Set();

/** A port the kernel just gave us and took back: free for the child to bind. */
export async function freePort() {
  for (;;) {
    const port = await new Promise((ok, fail) => {
      const s = createServer();
      s.once('error', fail);
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => ok(port));
      });
    });
    if (!givenPorts.has(port)) {
      givenPorts.add(port);
      return port;
    }
  }
}

/** Spawns `cmd` and resolves once it prints a line matching `ready` on stdout; rejects (and kills
 * it) if it exits or stays silent for 30 s. `stop()` ends it. */
function spawnUntil(cmd, args, env, ready, name) {
  return new Promise((ok, fail) => {
    const child = spawnTracked(cmd, args, env);
    let log = '';
    const handle = { child, log: () => log, stop: () => stopChild(child) };
    const timer = setTimeout(() => {
      fail(new Error(`${name} did not start in 30 s:\n${log}`));
      child.kill('SIGKILL');
    }, 30_000);
    child.stdout.on('data', (chunk) => {
      log += chunk;
      if (ready.test(log)) {
        clearTimeout(timer);
        ok(handle);
      }
    });
    child.stderr.on('data', (c) => { log += c; });
    child.once('error', (e) => {
      clearTimeout(timer);
      fail(new Error(`cannot start ${name} (${cmd}): ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`${name} exited with ${code ?? signal} before it was ready:\n${log}`));
    });
  });
}

/** Runs a command to completion; resolves with its stdout, rejects with its stderr. */
function run(cmd, args, env = {}) {
  return new Promise((ok, fail) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${cmd} ${args.join(' ')} failed (${err.code ?? err.signal}):\n${stderr}${stdout}`));
      else ok(stdout);
    });
  });
}

/** Polls `probe` every 100 ms until it returns a truthy value; rejects after `timeoutMs`. */
export async function until(probe, what, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(100);
  }
}

/** Port, origin, a fresh SQLite data directory and the environment of one server, before it
 * starts: so a helper can be told the origin, and `cli` can import holders, first. */
export async function prepareServer(extraEnv = {}) {
  const port = await freePort();
  const dataDir = tempDir('mahpki-e2e-data-');
  const origin = `http://localhost:${port}`;
  const env = {
    MAHPKI_LISTEN: `127.0.0.1:${port}`,
    MAHPKI_PUBLIC_ORIGIN: origin,
    MAHPKI_DATA_DIR: dataDir,
    MAHPKI_DIST_DIR: DIST,
    MAHPKI_LOG: 'info',
    ...extraEnv,
  };
  return { port, origin, dataDir, env, cli: (...args) => run(SERVER_BIN, args, env) };
}

/** The real server with a fresh SQLite data directory (or the one `prepared` made). `origin` is
 * what the browser must use; `cli(...args)` runs `mahpki-server ARGS` on the same database and
 * resolves with its stdout. */
export async function startServer(extraEnv = {}, prepared = undefined) {
  const p = prepared ?? await prepareServer();
  // Into the prepared environment, so `cli` runs with exactly the server's configuration.
  Object.assign(p.env, extraEnv);
  const { log, stop } = await spawnUntil(SERVER_BIN, [], p.env, /listening on http:\/\/127\.0\.0\.1:\d+/, 'mahpki-server');
  return {
    origin: p.origin,
    port: p.port,
    dataDir: p.dataDir,
    log,
    cli: p.cli,
    async stop() {
      await stop();
      rmSync(p.dataDir, { recursive: true, force: true });
      tempDirs.delete(p.dataDir);
    },
  };
}

/** What pcscd says about `reader`: 'absent' (not listed), 'empty' or 'present'. opensc-tool -l
 * reports pcscd's own reader state (SCardGetStatusChange), not a probe of the card. */
async function readerState(reader = READER) {
  const out = await run('opensc-tool', ['-l']);
  for (const line of out.split('\n')) {
    const m = /^\d+\s+(Yes|No)\s.*$/.exec(line.trimEnd());
    if (m && line.trimEnd().endsWith(reader)) return m[1] === 'Yes' ? 'present' : 'empty';
  }
  return 'absent';
}

/** A pcscd offering vpcd's readers: the running one, or `pcscd --foreground` started here (we run
 * as root). `stop()` stops only a pcscd started here. Resolves once READER is listed. */
export async function ensurePcscd() {
  const running = existsSync(PCSCD_SOCKET)
    && await run('pidof', ['pcscd']).then(() => true, () => false);
  let child;
  let log = '';
  if (!running) {
    child = spawnTracked('pcscd', ['--foreground']);
    // Keep only the tail: pcscd logs every failed card call.
    const keep = (c) => { log = (log + c).slice(-8_000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
  }
  const stop = async () => { if (child) await stopChild(child); };
  try {
    await until(async () => {
      if (child && child.exitCode !== null) throw new Error(`pcscd exited with ${child.exitCode}:\n${log}`);
      return (await readerState()) !== 'absent';
    }, `pcscd to list reader ${READER}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { startedHere: Boolean(child), stop };
}

const pkis = new Map();

/** The deterministic test PKI for `seed` (`cardsim pki`), written once per process. `holders` are
 * holders.json's: hpki_id, name_kanji/kana/roman, issuer, qualification, registration_number,
 * hpki_card_id, hpki_profile, hpki_pin, jpki_auth_pin, jpki_sign_pin, revoked, and certificate and
 * key paths relative to `dir`. */
export function testPki(seed = 1) {
  if (!pkis.has(seed)) {
    pkis.set(seed, (async () => {
      const dir = tempDir(`mahpki-e2e-pki-${seed}-`);
      await run(CARDSIM_BIN, ['pki', '--seed', String(seed), '--out', dir]);
      const manifest = JSON.parse(readFileSync(join(dir, 'holders.json'), 'utf8'));
      return {
        dir,
        seed,
        holders: manifest.holders,
        manifest,
        importFile: join(dir, 'server-import.json'),
        trustFile: join(dir, 'server-trust.toml'),
      };
    })());
    pkis.get(seed).catch(() => pkis.delete(seed));
  }
  return pkis.get(seed);
}

/** A server configuration file: the test PKI's trust, with `top` (settings) before it and `tables`
 * (e.g. `[ca_policy.JMA]`) after it. Resolves with its path, for `MAHPKI_CONFIG`. */
export async function serverConfig({ seed = 1, top = '', tables = '' } = {}) {
  const pki = await testPki(seed);
  const file = join(tempDir('mahpki-e2e-config-'), 'server.toml');
  writeFileSync(file, `${top}\n${readFileSync(pki.trustFile, 'utf8')}\n${tables}\n`);
  return file;
}

/** Every browser of a test comes from 127.0.0.1, so the per-address limit of the card and login
 * endpoints (tested in the server's own tests) would count a PC and several phones as one
 * client; tests that drive many rounds lift it. */
export const NO_RATE_LIMIT = 'rate_limit = { burst = 1000, per_minute = 1000 }';

/** Sends one line to cardsim's control port and resolves with the reply line. */
function control(port, command) {
  return new Promise((ok, fail) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    sock.setTimeout(10_000, () => sock.destroy(new Error(`cardsim did not answer ${JSON.stringify(command)}`)));
    sock.once('connect', () => sock.write(`${command}\n`));
    sock.on('data', (c) => {
      buf += c;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      sock.end('quit\n');
      const reply = buf.slice(0, nl).trim();
      if (reply.startsWith('ok')) ok(reply);
      else fail(new Error(`cardsim: ${JSON.stringify(command)} → ${reply}`));
    });
    sock.once('error', fail);
    sock.once('close', () => fail(new Error(`cardsim closed the control connection on ${JSON.stringify(command)}`)));
  });
}

/** `cardsim serve`: virtual cards of the test PKI for `seed` in vpcd reader READER. Cards keep
 * their PIN counters for the life of this cardsim. `insert` and `remove` resolve once pcscd
 * reports the change. They never ask the helper: its /v1/status connects to the card, and the
 * pcsc crate disconnects with a reset, which breaks an operation the page has in flight.
 * `ctl(command)` sends a raw control command (see crates/cardsim/src/control.rs): `insert hpki
 * [HOLDER [PROFILE]]`, `insert jpki [HOLDER]`, `insert HOLDER`, `remove`, `status`, `holders`. */
export async function startCards({ seed = 1 } = {}) {
  const port = await freePort();
  const { log, stop } = await spawnUntil(CARDSIM_BIN, [
    'serve', '--seed', String(seed), '--vpcd-port', String(VPCD_PORT), '--control-port', String(port),
  ], {}, /cardsim control listening on/, 'cardsim');
  const ctl = (command) => control(port, command);
  const settle = (want) => until(async () => (await readerState()) === want,
    `pcscd to report ${READER} ${want} (does another virtual card hold vpcd port ${VPCD_PORT}?)`);
  const remove = async () => {
    const reply = await ctl('remove');
    await settle('empty');
    // pcscd can report the slot empty before its reader thread has polled vpcd (a reset that
    // fails on the pulled card clears the state early). vpcd accepts the next card within that
    // same poll, so the thread would never see the slot empty and the next card would stay
    // invisible. Let the thread poll the empty slot once (pcsc-lite polls every 400 ms).
    if (reply !== 'ok empty') await sleep(PCSCD_POLL_MS);
    return reply;
  };
  return {
    port,
    log,
    ctl,
    /** Puts holder `holderId`'s card of `kind` ('hpki' | 'jpki'; an HPKI card may name a profile)
     * in the reader. Whatever was there is taken out first and pcscd must see the reader empty:
     * pcscd polls vpcd (~400 ms), so right after a swap its stale 'present' would still mean the
     * old card. */
    async insert(kind, holderId, profile = undefined) {
      await remove();
      const reply = await ctl(['insert', kind, holderId, profile].filter(Boolean).join(' '));
      await settle('present');
      return reply;
    },
    remove,
    stop,
  };
}

/** The real local helper (PC/SC backend, no demo) on a free loopback port. `status()` is
 * GET /v1/status as the first allowed origin would call it. `stop()` may be called twice. */
export async function startHelper({ allowedOrigins = [] } = {}) {
  const port = await freePort();
  const { log, stop } = await spawnUntil(HELPER_BIN, [], {
    MAHPKI_HELPER_PORT: String(port),
    MAHPKI_HELPER_ALLOWED_ORIGINS: allowedOrigins.join(','),
  }, /mahpki-helper listening on http:\/\/127\.0\.0\.1:\d+/, 'mahpki-helper');
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    port,
    log,
    async status() {
      const r = await fetch(`${origin}/v1/status`, { headers: allowedOrigins.length ? { Origin: allowedOrigins[0] } : {} });
      if (r.status !== 200) throw new Error(`helper /v1/status: ${r.status} ${await r.text()}`);
      return r.json();
    },
    stop,
  };
}

/** Debian's PostgreSQL server binaries (the newest installed major version). */
function pgBin(name) {
  const root = '/usr/lib/postgresql';
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))).sort();
  if (!versions.length) throw new Error('PostgreSQL is not installed: run scripts/setup.sh');
  return join(root, versions[versions.length - 1], 'bin', name);
}

/** A throwaway PostgreSQL cluster on a free loopback port (run as the `postgres` user when we
 * are root, as initdb refuses root), with an empty database `mahpki`. `url` is for
 * MAHPKI_DATABASE_URL; `stop()` shuts it down and removes it. */
export async function startPostgres() {
  const dir = tempDir('mahpki-e2e-pg-');
  const asUser = {};
  if (process.getuid?.() === 0) {
    const id = async (flag) => Number((await run('id', [flag, 'postgres'])).trim());
    Object.assign(asUser, { uid: await id('-u'), gid: await id('-g') });
    chownSync(dir, asUser.uid, asUser.gid);
  }
  const data = join(dir, 'data');
  await new Promise((ok, fail) => {
    const c = spawn(pgBin('initdb'), ['--auth=trust', '--username=postgres', '--encoding=UTF8', '--no-sync', '-D', data],
      { stdio: ['ignore', 'ignore', 'pipe'], ...asUser });
    let err = '';
    c.stderr.on('data', (d) => { err += d; });
    c.once('exit', (code) => (code === 0 ? ok() : fail(new Error(`initdb failed:\n${err}`))));
  });
  const port = await freePort();
  const child = spawnTracked(pgBin('postgres'),
    ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'], {}, asUser);
  await until(() => run(pgBin('pg_isready'), ['-h', '127.0.0.1', '-p', String(port)]).then(() => true), 'PostgreSQL to accept connections', 30_000);
  await run(pgBin('createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'mahpki']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/mahpki`,
    async stop() {
      // SIGINT is PostgreSQL's fast shutdown.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    },
  };
}

/** A load balancer in front of several server processes: one public origin, sticky by the
 * `x-mahpki-node` request header a browser context sets (index into `ports`, default 0), so a
 * test sends the PC to one process and the phone to another. Streams (SSE) pass through.
 * `hits[i]` counts the requests node i served. */
export async function startBalancer(port, ports) {
  const hits = ports.map(() => 0);
  const server = createHttpServer((req, res) => {
    const i = Number(req.headers['x-mahpki-node'] ?? 0);
    hits[i] += 1;
    const upstream = httpRequest(
      { host: '127.0.0.1', port: ports[i], path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
      },
    );
    upstream.once('error', () => { res.destroy(); });
    res.once('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  return {
    hits,
    stop: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

/** The whole platform for one test: pcscd, the test PKI's holders imported into a fresh
 * database, the server trusting the test PKI, a helper allowing the server's origin, and virtual
 * cards (empty reader). `cli(...args)` runs `mahpki-server` on the server's database (`binding
 * list`, `audit tail`, `identity list`). `serverEnv` adds settings for the server only (e.g. a short
 * enrolment expiry). `postgres` puts the server on a throwaway PostgreSQL cluster; `nodes > 1` runs
 * that many server processes on it behind `startBalancer` (then `server.nodes` and
 * `server.balancer`). `stop()` ends everything this call started. */
export async function startPlatform({ seed = 1, serverEnv = {}, postgres = false, nodes = 1 } = {}) {
  const stops = [];
  const stopAll = async () => {
    // Reverse order; every stop runs even if one fails.
    const errors = [];
    while (stops.length) await stops.pop()().catch((e) => errors.push(e));
    if (errors.length) throw errors[0];
  };
  try {
    const pcscd = await ensurePcscd();
    stops.push(pcscd.stop);
    const pki = await testPki(seed);
    let database = {};
    if (postgres) {
      const pg = await startPostgres();
      stops.push(pg.stop);
      database = { MAHPKI_DATABASE_URL: pg.url };
    }
    // Several nodes share one public origin, as behind a load balancer.
    const balancerPort = nodes > 1 ? await freePort() : undefined;
    const shared = { MAHPKI_CONFIG: pki.trustFile, ...database };
    if (balancerPort) shared.MAHPKI_PUBLIC_ORIGIN = `http://localhost:${balancerPort}`;
    const prepared = await prepareServer(shared);
    const helper = await startHelper({ allowedOrigins: [prepared.env.MAHPKI_PUBLIC_ORIGIN] });
    stops.push(helper.stop);
    await prepared.cli('identity', 'import', pki.importFile);
    const nodeEnv = { MAHPKI_HELPER_ORIGINS: helper.origin, ...serverEnv };
    let server = await startServer(nodeEnv, prepared);
    stops.push(server.stop);
    if (balancerPort) {
      const all = [server];
      for (let i = 1; i < nodes; i++) {
        // Every process on one database reads the same server secret (as a deployment would).
        const secret = { MAHPKI_SECRET_FILE: `${prepared.dataDir}/server-secret`, ...shared };
        const node = await startServer(nodeEnv, await prepareServer(secret));
        stops.push(node.stop);
        all.push(node);
      }
      const balancer = await startBalancer(balancerPort, all.map((n) => n.port));
      stops.push(balancer.stop);
      server = { ...server, origin: prepared.env.MAHPKI_PUBLIC_ORIGIN, nodes: all, balancer };
    }
    const cards = await startCards({ seed });
    stops.push(cards.stop);
    return { pcscd, pki, server, helper, cards, cli: server.cli, stop: stopAll };
  } catch (e) {
    await stopAll().catch(() => {});
    throw e;
  }
}

/** Debian's Chromium, headless, in a throwaway profile. */
export async function launchBrowser(options = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'mahpki-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    ...options,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Collects what would tell a developer the page is broken: errors, CSP violations, failed loads. */
export function watchForProblems(page) {
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // Pages are full loads (one bundle per page): a request still under way when the holder (or
  // the flow) moves to the next page is aborted by the browser (net::ERR_ABORTED), which is no
  // fault; every other failure is.
  page.on('requestfailed', (r) => {
    const why = r.failure()?.errorText;
    if (why !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} ${why}`);
  });
  return problems;
}

export function screenshotPath(name) {
  mkdirSync(OUTPUT, { recursive: true });
  return join(OUTPUT, `${name}.png`);
}

/** The accessibility bar every screen must clear: WCAG 2.1 A and AA, as axe-core tags them. */
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** axe-core's violations on what `page` shows now, one line each (rule, impact, where). */
async function axeViolations(page) {
  const { violations } = await new AxeBuilder({ page }).withTags(WCAG_21_AA).analyze();
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Fails with every WCAG 2.1 AA violation axe-core finds on the screen `page` shows, in the
 * language shown and, where the page has the language switch, in the other one too (switched
 * back after, so the flow goes on as it was). `otherLanguage: false` checks the shown language
 * only, without touching the page (the keyboard walk, which must not click). */
export async function expectAccessible(page, name, { otherLanguage = true } = {}) {
  const found = (await axeViolations(page)).map((v) => `${name}: ${v}`);
  // A disabled switch (the static first frame, before the app runs) cannot be used yet.
  const other = page.locator('.lang-switch button[aria-pressed="false"]:not([disabled])');
  if (otherLanguage && await other.count() === 1) {
    const back = page.locator('.lang-switch button[aria-pressed="true"]');
    const backLang = await back.getAttribute('lang');
    const lang = await other.getAttribute('lang');
    await other.click();
    await page.locator(`html[lang="${lang}"]`).waitFor();
    found.push(...(await axeViolations(page)).map((v) => `${name} [${lang}]: ${v}`));
    await page.locator(`.lang-switch button[lang="${backLang}"]`).click();
    await page.locator(`html[lang="${backLang}"]`).waitFor();
  }
  if (found.length > 0) throw new Error(`accessibility violations (WCAG 2.1 AA):\n${found.join('\n')}`);
}

/** A screen the tests reach: its screenshot `name` in the output folder, and its accessibility
 * check (see `expectAccessible`). */
export async function capture(page, name, { fullPage = true } = {}) {
  await page.screenshot({ path: screenshotPath(name), fullPage });
  await expectAccessible(page, name);
}

// ---- Page helpers shared by the flow tests ----

/** Waits for a flow's screen (`data-step`) and, if given, its card stage (`data-stage`). */
export async function screen(page, step, stage) {
  const sel = stage ? `section[data-step="${step}"] [data-stage="${stage}"]` : `section[data-step="${step}"]`;
  // Attached, not visible: a stage whose words are all in the live region has an empty box.
  await page.locator(sel).waitFor({ state: 'attached', timeout: 30_000 });
}

/** The helper's PIN window for the operation the page waits on: found by the link the page
 * offers, which names the same operation as the window the page opened in the click. */
export async function pinWindow(page) {
  const link = page.locator('[data-stage="waiting_pin"] a, [data-stage="pin_wrong"] a');
  await link.first().waitFor({ timeout: 30_000 });
  const url = await link.first().getAttribute('href');
  return until(() => page.context().pages().find((p) => p.url() === url), `PIN window ${url}`, 30_000);
}

/** Types `pin` into the helper's PIN window (never the page) and submits it. */
export async function enterPin(page, pin, shot) {
  const win = await pinWindow(page);
  await win.locator('#pin').fill(pin);
  if (shot) await capture(win, shot, { fullPage: false });
  await win.locator('#pin-form button[type=submit]').click();
  return win;
}
