// The demo relying service (e2e/rp/rp.mjs) started for a test: registered as a client of the
// platform with the CLI, listening on a free port, stopped by the test.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, freePort, until } from './harness.mjs';

/** The demo relying service for `platform`, registered as its client (the CLI's answer kept). */
export async function startRp(platform) {
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
    registered,
    log: () => log,
    stop: () => new Promise((ok) => { child.once('exit', ok); child.kill('SIGTERM'); }),
  };
}
