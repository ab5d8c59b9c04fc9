// The S3 Batch Operations function (src/bin/imgbatch-lambda), run as Lambda runs it, with no
// AWS account: cargo-lambda's emulator serves the Lambda runtime API, moto's server is S3,
// and the function is the debug binary the Rust tests built. Events are shaped as Batch
// Operations sends them (schema 2.0, URL-encoded keys), one task per object.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLI, CORPUS, ROOT, VENV, freePort, startMoto } from './helpers.mjs';

const FUNCTION = process.env.IMGBATCH_LAMBDA_BIN ?? path.join(ROOT, 'target/debug/imgbatch-lambda');
const NAME = 'imgbatch-lambda';
const PRESET = 'thumbnails'; // three sizes per photo: every output of a task is checked
const PHOTOS = {
  'in/trip/café terrace.jpg': 'exif-samples/jpg/Nikon_D70.jpg',
  'in/trip/day 2/IMG_0001.png': 'pngsuite/png/basn6a08.png',
  'in/landscape.jpg': 'exif-orientation-examples/Landscape_6.jpg',
};
// 12 MP: converts in the 2048 MB the function is given, and not in 128 MB.
const LARGE = 'libavif/dog_exif_extended_xmp_icc.jpg';

let moto;
let emulator;
let fn;
let invokeUrl;
const aws = (...args) => execFileSync(path.join(VENV, 'bin/aws'), args, { env: moto.env, encoding: 'utf8' });

async function startFunction(memoryMb) {
  await fn?.stop();
  const child = spawn(FUNCTION, [], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...moto.env,
      AWS_LAMBDA_RUNTIME_API: `${emulator.url}/.rt/${NAME}`,
      AWS_LAMBDA_FUNCTION_NAME: NAME,
      AWS_LAMBDA_FUNCTION_VERSION: '1',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
      IMGBATCH_PRESET: PRESET,
      IMGBATCH_DEST: 's3://dest/out/',
      IMGBATCH_SOURCE_PREFIX: 'in/',
    },
  });
  fn = {
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill();
    }),
  };
}

/** One Batch Operations invocation, as the emulator's Invoke API takes it. */
async function invoke(keys, invocationId = 'YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo') {
  const event = {
    invocationSchemaVersion: '2.0',
    invocationId,
    job: { id: 'f3cc4f60-61f6-4a2b-8a21-d07600c373ce', userArguments: {} },
    tasks: keys.map((key, i) => ({ taskId: `task-${i}`, s3Key: encodeURIComponent(key).replaceAll('%2F', '/'), s3VersionId: null, s3Bucket: 'source' })),
  };
  const response = await fetch(invokeUrl, { method: 'POST', body: JSON.stringify(event) });
  assert.equal(response.status, 200, await response.clone().text());
  return response.json();
}

function listDest() {
  const listed = JSON.parse(aws('s3api', 'list-objects-v2', '--bucket', 'dest', '--output', 'json'));
  return Object.fromEntries((listed.Contents ?? []).map((o) => [o.Key, `${o.ETag} ${o.LastModified}`]));
}

before(async () => {
  moto = await startMoto();
  aws('s3', 'mb', 's3://source');
  aws('s3', 'mb', 's3://dest');
  const staging = mkdtempSync(path.join(tmpdir(), 'imgbatch-lambda-'));
  const upload = (key, bytes) => {
    const file = path.join(staging, 'upload');
    writeFileSync(file, bytes);
    aws('s3', 'cp', file, `s3://source/${key}`);
  };
  for (const [key, corpus] of Object.entries(PHOTOS)) upload(key, readFileSync(path.join(CORPUS, corpus)));
  const photo = readFileSync(path.join(CORPUS, PHOTOS['in/landscape.jpg']));
  upload('in/broken.jpg', photo.subarray(0, 2000)); // a JPEG cut off in its first scan
  upload('in/large.jpg', readFileSync(path.join(CORPUS, LARGE)));

  const port = await freePort();
  emulator = { url: `http://127.0.0.1:${port}` };
  const child = spawn(path.join(VENV, 'bin/cargo-lambda'), ['lambda', 'watch', '--only-lambda-apis', '-A', '127.0.0.1', '-P', String(port)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  emulator.child = child;
  await new Promise((resolve, reject) => {
    let seen = '';
    const look = (chunk) => {
      seen += chunk;
      if (seen.includes('starting Runtime server')) resolve();
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.on('exit', (code) => reject(new Error(`cargo lambda watch exited with ${code}: ${seen}`)));
  });
  invokeUrl = `${emulator.url}/2015-03-31/functions/${NAME}/invocations`;
  await startFunction(2048);
});

after(async () => {
  await fn?.stop();
  emulator?.child.kill();
  await moto?.stop();
});

test('each task gets the documented response and a result code by what went wrong', async () => {
  const response = await invoke(['in/trip/café terrace.jpg', 'in/broken.jpg', 'in/missing.jpg']);
  assert.deepEqual(Object.keys(response).sort(), ['invocationId', 'invocationSchemaVersion', 'results', 'treatMissingKeysAs']);
  assert.equal(response.invocationSchemaVersion, '2.0');
  assert.equal(response.invocationId, 'YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo');
  assert.equal(response.treatMissingKeysAs, 'PermanentFailure');
  const [good, broken, missing] = response.results;
  assert.deepEqual(response.results.map((r) => r.taskId), ['task-0', 'task-1', 'task-2']);
  assert.equal(good.resultCode, 'Succeeded', good.resultString);
  // Bad bytes stay bad: permanent, so Batch Operations does not retry them.
  assert.equal(broken.resultCode, 'PermanentFailure');
  assert.match(broken.resultString, /^decode: /);
  assert.equal(missing.resultCode, 'PermanentFailure');
  assert.match(missing.resultString, /^missing: s3:\/\/source\/in\/missing\.jpg/);
});

test('an image too large for the function memory fails with limit, and fits in more', async () => {
  await startFunction(128);
  const [small] = (await invoke(['in/large.jpg'])).results;
  assert.equal(small.resultCode, 'PermanentFailure');
  assert.match(small.resultString, /^limit: .*memory limit/);
  assert.ok(!Object.keys(listDest()).some((k) => k.startsWith('out/large')), 'nothing written for it');
  await startFunction(2048);
  const [enough] = (await invoke(['in/large.jpg'])).results;
  assert.equal(enough.resultCode, 'Succeeded', enough.resultString);
});

test('the destination gets the CLI bytes and headers for every output, and a rerun writes nothing', async () => {
  const keys = Object.keys(PHOTOS);
  const first = await invoke(keys);
  assert.ok(first.results.every((r) => r.resultCode === 'Succeeded'), JSON.stringify(first.results));

  // The CLI, on the same files laid out as under the source prefix, with the same preset.
  const dir = mkdtempSync(path.join(tmpdir(), 'imgbatch-lambda-cli-'));
  for (const [key, corpus] of Object.entries(PHOTOS)) {
    const file = path.join(dir, key);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, readFileSync(path.join(CORPUS, corpus)));
  }
  execFileSync(CLI, [path.join(dir, 'in'), '-o', path.join(dir, 'cli'), '--preset', PRESET], { stdio: 'ignore' });
  const expected = [];
  const walk = (d) => readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : expected.push(path.relative(path.join(dir, 'cli'), path.join(d, e.name)))));
  walk(path.join(dir, 'cli'));
  assert.equal(expected.length, keys.length * 3, expected.join(', '));

  aws('s3', 'sync', 's3://dest/out', path.join(dir, 'lambda'), '--exclude', 'large*');
  for (const name of expected) {
    assert.ok(readFileSync(path.join(dir, 'lambda', name)).equals(readFileSync(path.join(dir, 'cli', name))), `${name}: the CLI's bytes`);
  }
  const head = JSON.parse(aws('s3api', 'head-object', '--bucket', 'dest', '--key', `out/${expected[0]}`, '--output', 'json'));
  assert.equal(head.ContentType, 'image/jpeg');
  assert.match(head.CacheControl, /max-age=/);

  const before = listDest();
  const again = await invoke(keys, 'second-run');
  assert.ok(again.results.every((r) => r.resultCode === 'Succeeded' && r.resultString.startsWith('exists: ')), JSON.stringify(again.results));
  assert.deepEqual(listDest(), before, 'no output is written again');
});
