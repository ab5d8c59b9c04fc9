// Page hardening: the page runs, threaded, with Trusted Types enforced (no string becomes
// markup or a script URL unless the site's one policy allows it), and a file whose name is
// HTML is shown as text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CORPUS, openPageAt, useSiteAndBrowser } from './helpers.mjs';

const site = useSiteAndBrowser();

test('the page runs its threaded engine with Trusted Types enforced', async () => {
  const { page, errors } = await openPageAt(site.browser, site.server.url);
  const state = await page.evaluate(() => {
    let markup = 'allowed';
    try {
      document.createElement('div').innerHTML = '<b>x</b>';
    } catch (e) {
      markup = e.name;
    }
    let foreign = 'allowed';
    try {
      new Worker('https://example.com/evil.js');
    } catch (e) {
      foreign = e.name;
    }
    return { mode: window.imgbatch.engineInfo().mode, markup, foreign };
  });
  assert.deepEqual(state, { mode: 'threaded', markup: 'TypeError', foreign: 'TypeError' });
  assert.deepEqual(errors, []);
  await page.close();
});

test('a file whose name is HTML is shown as text, never as markup', async () => {
  const { page, errors } = await openPageAt(site.browser, site.server.url);
  const name = '<img src=x onerror="window.pwned=1">.jpg';
  const buffer = readFileSync(path.join(CORPUS, 'exif-orientation-examples/Landscape_1.jpg'));
  await page.setInputFiles('#file-input', { name, mimeType: 'image/jpeg', buffer });
  await page.waitForFunction(() => document.querySelectorAll('#files tr').length === 1);
  assert.ok((await page.textContent('#files')).includes(name), 'the name shows as typed');
  assert.equal(await page.locator('#files img').count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.deepEqual(errors, []);
  await page.close();
});
