// The installable, offline page: Chromium finds nothing missing to install it; after one visit it loads with the server gone, stays
// cross-origin isolated, runs the threaded engine and converts; a new deploy is picked up on
// the next visit, whole. Serves a copy of the test build, so the test can deploy over it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CORPUS, SITE, convertInPage, launchChromium, serve } from './helpers.mjs';

let browser;
before(async () => { browser = await launchChromium(); });
after(async () => { await browser?.close(); });

const photo = { name: 'p.jpg', buffer: readFileSync(path.join(CORPUS, 'exif-orientation-examples/Portrait_5.jpg')) };
const marker = (page) => page.evaluate(() => document.querySelector('meta[name="imgbatch-test-deploy"]')?.content ?? null);

async function loaded(page) {
  await page.evaluate(() => window.imgbatch.ready);
  return page.evaluate(() => ({ isolated: self.crossOriginIsolated, mode: window.imgbatch.engineInfo().mode }));
}

test('after one visit the page works with the server gone, and a new deploy is picked up on the next visit', async () => {
  const site = mkdtempSync(path.join(tmpdir(), 'imgbatch-offline-'));
  cpSync(SITE, site, { recursive: true });
  let server = await serve('--dir', site);
  const port = new URL(server.url).port;
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(server.url);
    await loaded(page);
    const offline = await page.evaluate(() => window.imgbatch.offline);
    assert.ok(offline.ready, `not ready for offline use: ${offline.reason}`);
    // What Chromium checks before it offers "Install": the manifest, its icons, the worker.
    const cdp = await context.newCDPSession(page);
    // Playwright's contexts are incognito windows, where nothing installs; that is the one
    // reason allowed.
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    const missing = installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito');
    assert.deepEqual(missing, [], 'Chromium would offer to install the app');

    server.proc.kill();
    await new Promise((resolve) => server.proc.once('exit', resolve));
    await context.setOffline(true);
    await page.reload();
    assert.deepEqual(await loaded(page), { isolated: true, mode: 'threaded' });
    const [result] = await convertInPage(page, [photo], { format: 'jpeg', sizes: ['256'] });
    assert.equal(result.status, 'converted', JSON.stringify(result.error));

    // A new deploy: a changed page under a new build id, on the same origin.
    const index = path.join(site, 'index.html');
    writeFileSync(index, readFileSync(index, 'utf8').replace('<head>', '<head>\n  <meta name="imgbatch-test-deploy" content="second">'));
    const build = JSON.parse(readFileSync(path.join(site, 'build.json'), 'utf8'));
    writeFileSync(path.join(site, 'build.json'), JSON.stringify({ ...build, id: `${build.id}-second` }));
    server = await serve('--dir', site, '--port', port);
    await context.setOffline(false);
    await page.reload();
    assert.equal(await marker(page), 'second', 'the next visit runs the new deploy');
    assert.deepEqual(await loaded(page), { isolated: true, mode: 'threaded' });

    server.proc.kill();
    await context.setOffline(true);
    await page.reload();
    assert.equal(await marker(page), 'second', 'offline, the new deploy is the one kept');
    assert.deepEqual(await loaded(page), { isolated: true, mode: 'threaded' });
    const cached = await page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('imgbatch-build-')));
    assert.equal(cached.length, 1, `the old build is dropped: ${cached}`);
  } finally {
    server.proc.kill();
    await context.close();
  }
});
