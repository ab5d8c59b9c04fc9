// What the site's tests share: where things are, how Chromium is started, and how a test
// drives the page (its window.imgbatch automation API).
import { spawn } from 'node:child_process';
import { after, before } from 'node:test';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CORPUS = process.env.IMGBATCH_CORPUS ?? path.join(ROOT, '../shared/corpus');
export const SITE = process.env.IMGBATCH_SITE ?? path.join(ROOT, 'dist-test');
export const CLI = process.env.IMGBATCH_BIN ?? path.join(ROOT, 'target/debug/imgbatch');
export const VENV = process.env.IMGBATCH_VENV ?? path.join(ROOT, '.venv');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Debian's Chromium, headless. Without the background-networking flags it keeps trying to
 *  reach Google's hosts, which this machine's closed network refuses. */
export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** Opens the page at `url` and waits for its engine; collects requests and page errors. */
export async function openPageAt(browser, url) {
  const page = await browser.newPage();
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.evaluate(() => window.imgbatch.ready);
  return { page, requests, errors };
}

/** Converts `files` ({name, buffer}) in the page; returns results with output hashes. */
export async function convertInPage(page, files, options, { withBytes = false } = {}) {
  await page.setInputFiles('#file-input', files.map((f) => ({ name: f.name, mimeType: 'application/octet-stream', buffer: f.buffer })));
  return page.evaluate(async ({ options, withBytes }) => {
    const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
    const base64 = (buf) => {
      let s = '';
      const bytes = new Uint8Array(buf);
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    };
    const results = await window.imgbatch.convert(document.querySelector('#file-input').files, options);
    return Promise.all(results.map(async (r) => ({
      ...r,
      outputs: await Promise.all(r.outputs.map(async (o) => {
        const buf = await o.blob.arrayBuffer();
        return { name: o.name, width: o.width, height: o.height, format: o.format, bytes: o.bytes, notes: o.notes,
          hash: hex(await crypto.subtle.digest('SHA-256', buf)), data: withBytes ? base64(buf) : undefined };
      })),
    })));
  }, { options, withBytes });
}

/** Serves the test build with scripts/serve on a free port; resolves with { url, proc }. */
export function serve(...args) {
  const proc = spawn(path.join(ROOT, 'scripts/serve'), ['--dir', SITE, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    proc.stdout.on('data', (chunk) => {
      const url = /(http:\/\/localhost:\d+\/)/.exec(String(chunk))?.[1];
      if (url) resolve({ url, proc });
    });
    proc.on('exit', (code) => reject(new Error(`scripts/serve exited with ${code}`)));
  });
}

/** For a test file that needs the isolated site and one browser: starts both before its
 *  tests and stops them after; the returned object holds `server` and `browser` by then. */
export function useSiteAndBrowser() {
  const site = {};
  before(async () => {
    site.server = await serve();
    site.browser = await launchChromium();
  });
  after(async () => {
    await site.browser?.close();
    site.server?.proc.kill();
  });
  return site;
}

/** The mean squared error of each output against `reference` (all base64), over RGB, with
 *  every file decoded by Chromium without colour conversion; -1 where the sizes differ. */
export function meanSquaredErrors(page, reference, outputs) {
  return page.evaluate(async ([reference, outputs]) => {
    const rgba = async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const bitmap = await createImageBitmap(new Blob([bytes]), { colorSpaceConversion: 'none' });
      const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d');
      ctx.drawImage(bitmap, 0, 0);
      return ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    };
    const a = await rgba(reference);
    const result = [];
    for (const output of outputs) {
      const b = await rgba(output);
      if (a.length !== b.length) { result.push(-1); continue; }
      let sum = 0;
      for (let i = 0; i < a.length; i++) if (i % 4 !== 3) sum += (a[i] - b[i]) ** 2;
      result.push(sum / (a.length * 0.75));
    }
    return result;
  }, [reference, outputs]);
}

/** Peak signal-to-noise ratio in dB, from a mean squared error of 8-bit samples. */
export const psnr = (mse) => 10 * Math.log10((255 * 255) / mse);
