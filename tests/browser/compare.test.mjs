// The before/after compare view in headless Chromium: opened and closed with the keyboard,
// both sides at their true sizes, the zoom and the pan, and an original the browser cannot
// show. Serves the test build (scripts/build --test-hooks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CORPUS, SITE, convertInPage, openPageAt, useSiteAndBrowser } from './helpers.mjs';

assert.ok(existsSync(path.join(CORPUS, 'MANIFEST.tsv')), `test corpus not found at ${CORPUS}`);
assert.ok(existsSync(path.join(SITE, 'build.json')), `no test build at ${SITE} (scripts/build --test-hooks)`);

const corpusFile = (p) => ({ name: path.basename(p), buffer: readFileSync(path.join(CORPUS, p)) });


const site = useSiteAndBrowser();

/** Waits until every image in the dialog has loaded or failed. */
const imagesSettled = (page) => page.waitForFunction(() => [...document.querySelectorAll('#compare img')].every((img) => img.complete));

/** The stages' sizes and positions, and each image's natural size. */
const view = (page) => page.evaluate(() => {
  const side = (name) => {
    const img = document.querySelector(`#compare .compare-${name} img`);
    const box = img.getBoundingClientRect();
    return { natural: [img.naturalWidth, img.naturalHeight], box: [box.x, box.y, box.width, box.height].map(Math.round), src: img.src };
  };
  return { original: side('original'), output: side('output') };
});

test('the compare view opens from the keyboard, shows both images at their true sizes, zooms, pans together and closes with Escape', async () => {
  const { page, requests, errors } = await openPageAt(site.browser, site.server.url);
  // Small enough that the 1024-pixel output overflows the view at 1:1 both ways.
  await page.setViewportSize({ width: 900, height: 700 });
  // Landscape_6 is stored 1200×1800 and turned upright by its EXIF orientation: 1800×1200.
  const [result] = await convertInPage(page, [corpusFile('exif-orientation-examples/Landscape_6.jpg')], { format: 'webp', sizes: ['1024', '256'] });
  assert.equal(result.status, 'converted', JSON.stringify(result.error));
  assert.deepEqual([result.width, result.height], [1800, 1200]);
  assert.deepEqual(result.outputs.map((o) => [o.width, o.height]), [[1024, 683], [256, 171]]);

  const button = page.locator('#files .compare-button').first();
  await button.focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('#compare[open]');
  await imagesSettled(page);
  const fitted = await view(page);
  assert.deepEqual(fitted.original.natural, [1800, 1200]);
  assert.deepEqual(fitted.output.natural, [1024, 683]);
  // Both sides cover the same area, so the scene lines up under the split.
  assert.deepEqual(fitted.original.box, fitted.output.box);
  const stats = await page.locator('#compare .compare-stats').innerText();
  assert.match(stats, /1800×1200/);
  assert.match(stats, /1024×683/);
  assert.match(stats, /\d+% (smaller|larger)/);

  // 1:1 shows the output's own pixels (headless Chromium's device pixel ratio is 1).
  await page.locator('#compare button', { hasText: '1:1' }).focus();
  await page.keyboard.press('Enter');
  const actual = await view(page);
  assert.notDeepEqual(actual.output.box, fitted.output.box);
  assert.deepEqual(actual.output.box.slice(2), [1024, 683]);
  assert.deepEqual(actual.original.box, actual.output.box);

  // The arrow keys pan both sides together.
  await page.locator('#compare .compare-panes').focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  const panned = await view(page);
  assert.ok(panned.output.box[0] < actual.output.box[0] && panned.output.box[1] < actual.output.box[1],
    `${panned.output.box} after ArrowRight and ArrowDown from ${actual.output.box}`);
  assert.deepEqual(panned.original.box, panned.output.box);

  // The other size, from the size picker.
  await page.locator('#compare select').selectOption('1');
  await imagesSettled(page);
  assert.deepEqual((await view(page)).output.natural, [256, 171]);

  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => document.querySelector('#compare').open), false);
  assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('compare-button')), true, 'focus goes back to the Compare button');
  // Once the close event has run, the view is emptied and its object URLs revoked.
  await page.waitForFunction(() => !document.querySelector('#compare').hasChildNodes());
  const stillThere = await page.evaluate((urls) => Promise.all(urls.map((u) => fetch(u).then(() => true, () => false))), [fitted.original.src, fitted.output.src]);
  assert.deepEqual(stillThere, [false, false]);

  const origin = new URL(site.server.url).origin;
  assert.deepEqual(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:')), []);
  assert.deepEqual(errors, []);
  await page.close();
});

test('an original the browser cannot display is said so, and only the output is shown', async () => {
  const { page, errors } = await openPageAt(site.browser, site.server.url);
  const [result] = await convertInPage(page, [corpusFile('exif-samples/heic/samplefilehub.heif')], { format: 'jpeg' });
  assert.equal(result.status, 'converted', JSON.stringify(result.error));
  await page.locator('#files .compare-button').first().click();
  await page.waitForSelector('#compare[open]');
  await imagesSettled(page);
  const note = page.locator('#compare [role="status"]');
  await note.waitFor({ state: 'visible' });
  assert.match(await note.innerText(), /cannot display HEIF files, so only the output is shown/);
  assert.equal(await page.locator('#compare .compare-original').isVisible(), false);
  assert.deepEqual((await view(page)).output.natural, [result.outputs[0].width, result.outputs[0].height]);
  assert.deepEqual(errors, []);
  await page.close();
});
