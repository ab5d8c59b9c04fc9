// jSquash: @jsquash/jpeg (mozjpeg) decode and encode, @jsquash/resize (Lanczos3, with its
// defaults: premultiplied, linear RGB), @jsquash/webp encode; one worker per core. jSquash
// reads no EXIF, so photos are not turned upright (scored against the unturned source).
import decode from '../node_modules/@jsquash/jpeg/decode.js';
import encodeJpeg from '../node_modules/@jsquash/jpeg/encode.js';
import resize from '../node_modules/@jsquash/resize/index.js';
import encodeWebp from '../node_modules/@jsquash/webp/encode.js';
import { fit } from './fit.js';

export async function init() {}

export async function convert(blob, task) {
  const image = await decode(await blob.arrayBuffer());
  const [width, height] = fit(image.width, image.height, task.kind);
  const small = width === image.width && height === image.height ? image : await resize(image, { width, height, method: 'lanczos3' });
  const out = task.format === 'webp' ? await encodeWebp(small, { quality: 80 }) : await encodeJpeg(small, { quality: 80 });
  return new Uint8Array(out);
}
