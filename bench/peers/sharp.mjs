// sharp, natively: every photo in FOLDER to OUT with task a (long edge 2048) or b (720 wide),
// Lanczos3, auto-orient, JPEG or WebP q80. THREADS photos in flight, each on one libvips
// thread (sharp.concurrency(1)); the caller sets UV_THREADPOOL_SIZE=THREADS to match.
//   node bench/peers/sharp.mjs FOLDER OUT a|b jpeg|webp THREADS [mozjpeg]
import { readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

const [folder, out, kind, format, threads, flavour] = process.argv.slice(2);
sharp.concurrency(1);
sharp.cache(false);
const files = readdirSync(folder).sort();
const size = kind === 'a' ? { width: 2048, height: 2048, fit: 'inside' } : { width: 720 };
let next = 0;
await Promise.all(Array.from({ length: Number(threads) }, async () => {
  while (next < files.length) {
    const name = files[next++];
    const pipeline = sharp(path.join(folder, name)).rotate().resize({ ...size, withoutEnlargement: true, kernel: 'lanczos3' });
    const encoded = format === 'webp' ? pipeline.webp({ quality: 80 }) : pipeline.jpeg({ quality: 80, mozjpeg: flavour === 'mozjpeg' });
    await encoded.toFile(path.join(out, `${path.parse(name).name}.${format === 'webp' ? 'webp' : 'jpg'}`));
  }
}));
