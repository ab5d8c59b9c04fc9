// Presets in the real page: each built-in one fills the form in and converts a photo to what
// it promises, with the CLI's bytes for the same preset; a saved preset survives a reload and
// its export gives the CLI the page's bytes; a preset file the engine cannot use is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI, CORPUS, convertInPage, openPageAt, useSiteAndBrowser } from './helpers.mjs';

// A phone photo, 3024x4032 upright, with EXIF, XMP and an ICC profile.
const PHOTO = path.join(CORPUS, 'libavif/dog_exif_extended_xmp_icc.jpg');
const photo = { name: 'dog.jpg', buffer: readFileSync(PHOTO) };

const site = useSiteAndBrowser();

/** SHA-256 of each output the CLI writes for `args`, by file name. */
function cliHashes(...args) {
  const work = mkdtempSync(path.join(tmpdir(), 'imgbatch-preset-'));
  const [input, dir] = [path.join(work, photo.name), path.join(work, 'out')];
  copyFileSync(PHOTO, input);
  execFileSync(CLI, [input, '-o', dir, ...args], { stdio: 'ignore' });
  return Object.fromEntries(readdirSync(dir).sort().map((name) => [name, createHash('sha256').update(readFileSync(path.join(dir, name))).digest('hex')]));
}

const pageHashes = (result) => Object.fromEntries(result.outputs.map((o) => [o.name, o.hash]).sort());

test('each built-in preset fills the form in and converts to what it promises, as the CLI does', async () => {
  const { page, errors } = await openPageAt(site.browser, site.server.url);
  const promised = {
    'web-2048': { format: 'jpeg', sizes: [[1536, 2048]] },
    'instagram-1080': { format: 'jpeg', sizes: [[1080, 1440]] },
    'email-1600': { format: 'jpeg', sizes: [[1200, 1600]], maxBytes: 500_000 },
    archive: { format: 'png', sizes: [[3024, 4032]] },
    thumbnails: { format: 'jpeg', sizes: [[1536, 2048], [768, 1024], [240, 320]] },
  };
  const builtIn = await page.evaluate(() => window.imgbatch.engineInfo().presets);
  assert.deepEqual(builtIn.map((p) => p.id).sort(), Object.keys(promised).sort());
  for (const { id, label } of builtIn) {
    await page.selectOption('#preset', `built-in:${id}`);
    assert.equal(await page.inputValue('#format'), promised[id].format, `${label}: the form shows its format`);
    const options = await page.evaluate(() => window.imgbatch.formOptions());
    const [result] = await convertInPage(page, [photo], options);
    assert.equal(result.status, 'converted', `${label}: ${JSON.stringify(result.error)}`);
    assert.deepEqual(result.outputs.map((o) => [o.width, o.height]), promised[id].sizes, label);
    assert.ok(result.outputs.every((o) => o.format === promised[id].format), label);
    if (promised[id].maxBytes) assert.ok(result.outputs[0].bytes <= promised[id].maxBytes, `${label}: ${result.outputs[0].bytes} bytes`);
    assert.deepEqual(pageHashes(result), cliHashes('--preset', id), `${label}: the page and the CLI write the same bytes`);
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test('the form is built from the engine\'s description of its options, and each reaches the engine as its CLI flag does', async () => {
  const { page, errors } = await openPageAt(site.browser, site.server.url);
  const { options, fits } = await page.evaluate(() => window.imgbatch.engineInfo());
  const values = (selector) => page.$$eval(`${selector} option`, (list) => list.map((o) => o.value));
  for (const option of options.filter((o) => o.type === 'choice' && o.field !== 'format')) {
    const own = `select[data-option="${option.field}"]`;
    const selector = (await page.$(own)) ? own : `#option-${option.field}`;
    assert.deepEqual(await values(selector), option.choices.map((c) => c.name), option.field);
  }
  assert.deepEqual(await values('#fit'), fits.map((c) => c.name));
  const form = await page.evaluate(() => window.imgbatch.formOptions());
  for (const option of options) assert.deepEqual(form[option.field], option.default, `${option.field} starts at the engine's default`);

  // Options with no control of their own are under "More options". The test build's engine
  // describes one more option than any release, which no file of the page names: it gets a
  // control, and its value reaches the engine, which refuses fields it does not know.
  await page.click('.more-options summary');
  assert.ok(options.some((o) => o.field === 'testHookOption'), 'the test build describes its extra option');
  await page.check('#option-testHookOption');
  const withHook = await page.evaluate(() => window.imgbatch.formOptions());
  assert.equal(withHook.testHookOption, true);
  const [hooked] = await convertInPage(page, [photo], withHook);
  assert.equal(hooked.status, 'converted', JSON.stringify(hooked.error));
  const [misspelt] = await convertInPage(page, [photo], { ...withHook, testHookOptoin: true });
  assert.equal(misspelt.error?.code, 'invalid-options', 'a field the engine does not describe is refused');
  await page.uncheck('#option-testHookOption');
  await page.selectOption('#option-chroma', '444');
  await page.selectOption('#option-filter', 'nearest');
  await page.check('#option-progressive');
  await page.selectOption('#resize', '1024');
  const [result] = await convertInPage(page, [photo], await page.evaluate(() => window.imgbatch.formOptions()));
  assert.equal(result.status, 'converted', JSON.stringify(result.error));
  assert.deepEqual(pageHashes(result), cliHashes('--size', '1024', '--chroma', '444', '--filter', 'nearest', '--progressive'));
  assert.deepEqual(errors, []);
  await page.close();
});

test('a saved preset survives a reload, and its export gives the CLI the page\'s bytes', async () => {
  const { page } = await openPageAt(site.browser, site.server.url);
  await page.selectOption('#format', 'webp');
  await page.fill('#quality', '70');
  await page.selectOption('#resize', '1024');
  await page.fill('#extra-sizes', '200x200:cover');
  await page.selectOption('#metadata', 'strip-gps');
  await page.fill('#preset-name', 'Shop 1024 WebP');
  await page.click('#save-preset');
  await page.waitForSelector('#preset optgroup[label="Yours"] option', { state: 'attached' });

  await page.reload();
  await page.evaluate(() => window.imgbatch.ready);
  await page.selectOption('#format', 'png'); // the form changes; the preset puts it back
  await page.selectOption('#preset', { label: 'Shop 1024 WebP' });
  assert.equal(await page.inputValue('#format'), 'webp');
  assert.equal(await page.inputValue('#quality'), '70');
  assert.equal(await page.inputValue('#extra-sizes'), '200x200:cover');

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-preset')]);
  assert.equal(download.suggestedFilename(), 'shop-1024-webp.json');
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'imgbatch-export-')), 'shop.json');
  await download.saveAs(file);
  const exported = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(exported.label, 'Shop 1024 WebP');
  // The test build's extra option (see the form test) is unknown to the release CLI.
  assert.equal(exported.settings.testHookOption, false);
  delete exported.settings.testHookOption;
  writeFileSync(file, JSON.stringify(exported));

  const options = await page.evaluate(() => window.imgbatch.formOptions());
  const [result] = await convertInPage(page, [photo], options);
  assert.equal(result.outputs.length, 2);
  assert.deepEqual(pageHashes(result), cliHashes('--preset', file));
  await page.close();
});

test('a preset file the engine cannot use is refused with its reason, and nothing is kept', async () => {
  const { page } = await openPageAt(site.browser, site.server.url);
  await page.setInputFiles('#preset-file', { name: 'typo.json', mimeType: 'application/json', buffer: Buffer.from('{"label": "Typo", "settings": {"qualty": 50}}') });
  await page.waitForFunction(() => document.querySelector('#progress-text').textContent.includes('typo.json'));
  assert.match(await page.textContent('#progress-text'), /typo\.json is not a preset .*qualty/);
  assert.equal(await page.locator('#preset optgroup[label="Yours"]').count(), 0);
  await page.close();
});
