// Benchmark (make bench, issue 14 goal 2): navigation to the first rendered screen of the index
// and of the phone's page, in headless Chromium on loopback against the real server serving the
// release bundles (scripts/web.sh --release). Median and p95 of ROUNDS loads each, cold (HTTP
// cache off: a first visit) and warm (the cache, and Chromium's compiled-wasm cache, filled: the
// clinic's daily visit), with the breakdown:
//   html      navigation start → the document's last byte
//   wasm      navigation start → the wasm's last byte (its request starts from the html's preload)
//   compile   the wasm's last byte → WebAssembly instantiation resolved (compile + instantiate,
//             wrapped from the page's own loader before any script runs)
//   render    instantiation → the app's first screen in the DOM (the loading line replaced)
//   total     navigation start → the first screen, then the frame that paints it
// Prints Markdown table rows; never run as a test.
import { launchBrowser, startServer } from '../harness.mjs';

const ROUNDS = Number(process.env.MAHPKI_BENCH_ROUNDS ?? 20);
const PAGES = [
  ['index (home bundle)', '/'],
  ['phone sign-in (phone-signin bundle)', '/signin/phone'],
];

/** Runs in the page before its scripts: notes when instantiation resolves and when the app's
 * first screen replaces the loading line, then when that frame is painted. */
function probe() {
  const marks = (window.__marks = {});
  const now = () => performance.now();
  for (const name of ['instantiateStreaming', 'instantiate']) {
    const original = WebAssembly[name];
    WebAssembly[name] = function (...args) {
      return original.apply(this, args).then((r) => { marks.instantiated ??= now(); return r; });
    };
  }
  const seen = () => {
    const main = document.getElementById('main');
    return main && main.childElementCount > 0 && !main.querySelector('.first-frame');
  };
  new MutationObserver((_, obs) => {
    if (!seen()) return;
    marks.rendered = now();
    obs.disconnect();
    requestAnimationFrame(() => setTimeout(() => { marks.painted = now(); }, 0));
  }).observe(document, { subtree: true, childList: true });
}

async function load(context, url, cold) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: cold });
  await page.addInitScript(probe);
  await page.goto(url);
  await page.waitForFunction(() => window.__marks?.painted !== undefined, null, { timeout: 30_000 });
  const m = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const wasm = performance.getEntriesByType('resource').find((r) => r.name.endsWith('.wasm'));
    return { html: nav.responseEnd, wasm: wasm?.responseEnd ?? NaN, ...window.__marks };
  });
  await page.close();
  return {
    html: m.html,
    wasm: m.wasm,
    compile: m.instantiated - m.wasm,
    render: m.rendered - m.instantiated,
    total: m.painted,
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)];
const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

const server = await startServer({ MAHPKI_LOG: 'warn' });
const browser = await launchBrowser();
try {
  for (const [name, path] of PAGES) {
    for (const cold of [true, false]) {
      const url = `${server.origin}${path}`;
      // One load to warm the server (and, for warm rounds, the caches); not counted.
      await load(browser.context, url, cold);
      const runs = [];
      for (let i = 0; i < ROUNDS; i++) runs.push(await load(browser.context, url, cold));
      const col = (k) => runs.map((r) => r[k]);
      const parts = ['html', 'wasm', 'compile', 'render'].map((k) => ms(median(col(k))));
      console.log(`| ${name}, ${cold ? 'cold' : 'warm'} | ${ROUNDS} | ${parts.join(' | ')} | ${ms(median(col('total')))} | ${ms(p95(col('total')))} |`);
    }
  }
} finally {
  await browser.close();
  await server.stop();
}
