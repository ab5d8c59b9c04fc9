// A ZIP dropped on the page: its photos convert with their folder paths, its other files are
// skipped, and an entry that would escape its folder or is encrypted is reported while the
// rest convert; the archive is read entry by entry, so the engine stays small.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync, crc32 } from 'node:zlib';
import { CORPUS, convertInPage, openPageAt, useSiteAndBrowser } from './helpers.mjs';

const site = useSiteAndBrowser();

/** A ZIP of `entries` ({ name, data, flags }), deflated, written field by field. */
function zip(entries) {
  const locals = [];
  const directory = [];
  let offset = 0;
  for (const { name, data, flags = 0 } of entries) {
    const packed = deflateRawSync(data);
    const fields = Buffer.alloc(26);
    fields.writeUInt16LE(20, 0); // version needed
    fields.writeUInt16LE(flags, 2);
    fields.writeUInt16LE(8, 4); // deflate
    fields.writeUInt16LE(0x5aee, 6); // 11:23:28
    fields.writeUInt16LE(0x58ec, 8); // 2024-07-12
    fields.writeUInt32LE(crc32(data), 10);
    fields.writeUInt32LE(packed.length, 14);
    fields.writeUInt32LE(data.length, 18);
    fields.writeUInt16LE(Buffer.byteLength(name), 22);
    const local = Buffer.concat([Buffer.from([0x50, 0x4b, 3, 4]), fields, Buffer.from(name), packed]);
    const tail = Buffer.alloc(14); // comment length, disk, attributes, then the offset
    tail.writeUInt32LE(offset, 10);
    directory.push(Buffer.concat([Buffer.from([0x50, 0x4b, 1, 2, 20, 0]), fields, tail, Buffer.from(name)]));
    locals.push(local);
    offset += local.length;
  }
  const dir = Buffer.concat(directory);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

test('a ZIP of photos in folders converts with its folder paths, and its bad entries are reported', async () => {
  const photo = readFileSync(path.join(CORPUS, 'exif-orientation-examples/Landscape_6.jpg'));
  const icon = readFileSync(path.join(CORPUS, 'pngsuite/png/basn6a08.png'));
  const archive = zip([
    { name: 'trip/day 1/a.jpg', data: photo },
    { name: 'icons/i.png', data: icon },
    { name: 'trip/notes.txt', data: Buffer.from('not a photo') },
    { name: '../evil.jpg', data: photo },
    { name: 'secret.jpg', data: photo, flags: 1 },
  ]);
  const { page, errors } = await openPageAt(site.browser, site.server.url);
  const results = await convertInPage(page, [{ name: 'shoot.zip', buffer: archive }], { format: 'webp', sizes: ['128'] });
  const rows = Object.fromEntries(results.map((r) => [r.path, r]));
  assert.deepEqual(Object.keys(rows).sort(), ['../evil.jpg', 'icons/i.png', 'secret.jpg', 'trip/day 1/a.jpg', 'trip/notes.txt']);
  assert.equal(rows['trip/day 1/a.jpg'].status, 'converted');
  assert.equal(rows['trip/day 1/a.jpg'].outputs[0].name, 'trip/day 1/a.webp');
  assert.deepEqual([rows['trip/day 1/a.jpg'].outputs[0].width, rows['trip/day 1/a.jpg'].outputs[0].height], [128, 85]);
  assert.equal(rows['icons/i.png'].status, 'converted');
  assert.equal(rows['trip/notes.txt'].status, 'skipped');
  assert.equal(rows['../evil.jpg'].status, 'failed');
  assert.equal(rows['../evil.jpg'].error.code, 'unsupported');
  assert.equal(rows['secret.jpg'].status, 'failed');
  assert.equal(rows['secret.jpg'].error.code, 'unsupported');
  // Each entry keeps the date the archive gives it.
  const modified = await page.evaluate(() => window.imgbatch.zipEntries().map((e) => e.modified));
  assert.ok(modified.every((ms) => new Date(ms).toISOString().startsWith('2024-07-12T11:23')), modified.map((ms) => new Date(ms).toISOString()).join());
  assert.deepEqual(errors, []);
  await page.close();
});
