// sharp, natively: every photo in FOLDER to OUT with task a (long edge 2048) or b (720 wide),
// Lanczos3, auto-orient, JPEG or WebP at QUALITY (default 80). THREADS photos in flight, each on
// one libvips thread (sharp.concurrency(1)); the caller sets UV_THREADPOOL_SIZE=THREADS to match.
//   node bench/peers/sharp.mjs FOLDER OUT a|b jpeg|webp THREADS [mozjpeg] [QUALITY]
import { readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

const [folder, out, kind, format, threads, flavour, q] = process.argv.slice(2);
const quality = Number(q || 80);
sharp.concurrency(1);
sharp.cache(false);
const files = readdirSync(folder).sort();
// Task c: three outputs from one decode, as sharp's docs show with clone().
const sizes = {
  a: [{ width: 2048, height: 2048, fit: 'inside' }],
  b: [{ width: 720 }],
  c: [{ width: 2048, height: 2048, fit: 'inside' }, { width: 1024, height: 1024, fit: 'inside' }, { width: 320, height: 320, fit: 'cover' }],
}[kind];
let next = 0;
await Promise.all(Array.from({ length: Number(threads) }, async () => {
  while (next < files.length) {
    const name = files[next++];
    const source = sharp(path.join(folder, name)).rotate();
    await Promise.all(sizes.map((size, i) => {
      const pipeline = source.clone().resize({ ...size, withoutEnlargement: true, kernel: 'lanczos3' });
      const encoded = format === 'webp' ? pipeline.webp({ quality }) : pipeline.jpeg({ quality, mozjpeg: flavour === 'mozjpeg' });
      const suffix = sizes.length > 1 ? `-${i}` : '';
      return encoded.toFile(path.join(out, `${path.parse(name).name}${suffix}.${format === 'webp' ? 'webp' : 'jpg'}`));
    }));
  }
}));
