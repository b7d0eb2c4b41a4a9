// Starts the real mahpki server (and, in later flows, the helper and virtual cards) on free
// loopback ports, and Debian's Chromium under playwright-core. Nothing here downloads anything.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..');
export const OUTPUT = process.env.MAHPKI_TEST_OUTPUT ?? join(ROOT, 'test-output', 'e2e');
const SERVER_BIN = process.env.MAHPKI_SERVER_BIN ?? join(ROOT, 'target', 'debug', 'mahpki-server');
const DIST = process.env.MAHPKI_DIST_DIR ?? join(ROOT, 'dist');

/** A port the kernel just gave us and took back: free for the child to bind. */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Spawns `cmd` and resolves once it prints a line matching `ready`; rejects if it exits first. */
function spawnUntil(cmd, args, env, ready, name) {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => fail(new Error(`${name} did not start in 30 s:\n${log}`)), 30_000);
    const onData = (chunk) => {
      log += chunk;
      if (ready.test(log)) {
        clearTimeout(timer);
        ok({ child, log: () => log });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => { log += c; });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${name} exited with ${code} before it was ready:\n${log}`));
    });
  });
}

/** The real server with a fresh SQLite data directory. `origin` is what the browser must use. */
export async function startServer(extraEnv = {}) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'mahpki-e2e-data-'));
  const origin = `http://localhost:${port}`;
  const { child, log } = await spawnUntil(SERVER_BIN, [], {
    MAHPKI_LISTEN: `127.0.0.1:${port}`,
    MAHPKI_PUBLIC_ORIGIN: origin,
    MAHPKI_DATA_DIR: dataDir,
    MAHPKI_DIST_DIR: DIST,
    MAHPKI_LOG: 'info',
    ...extraEnv,
  }, /listening on http:\/\/127\.0\.0\.1:\d+/, 'mahpki-server');
  return {
    origin,
    dataDir,
    log,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
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
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  return problems;
}

export function screenshotPath(name) {
  mkdirSync(OUTPUT, { recursive: true });
  return join(OUTPUT, `${name}.png`);
}
