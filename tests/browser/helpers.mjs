// What the site's tests share: where things are, how Chromium is started, how a test
// drives the page (its window.imgbatch automation API), and a local AWS (moto) for the
// deployment tests.
import { spawn } from 'node:child_process';
import { after, before } from 'node:test';
import net from 'node:net';
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

export function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts moto's server (a local S3, CloudFormation, STS and more) on a free port of 127.0.0.1.
 *  Resolves with its `endpoint`, an `env` that points the AWS CLI and SDKs at it (the .venv's
 *  `aws` first on PATH, fake credentials, us-east-1, no profile files or instance metadata),
 *  and `stop()`, which resolves once the server has exited. */
export async function startMoto() {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const proc = spawn(path.join(VENV, 'bin/moto_server'), ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  let ended = null;
  proc.on('error', (e) => { ended = e.message; });
  proc.on('exit', (code) => { ended ??= `exited with ${code}`; });
  const env = {
    ...process.env,
    PATH: `${path.join(VENV, 'bin')}:${process.env.PATH}`,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  for (let tries = 0; ; tries++) {
    if (ended) throw new Error(`moto_server ${ended}`);
    try {
      // Read to the end, so no half-read response holds a connection open.
      await (await fetch(endpoint)).arrayBuffer();
      break;
    } catch (e) {
      if (tries > 100) throw new Error(`moto_server did not start: ${e.message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill();
  });
  return { endpoint, env, stop };
}
