/** The two tasks' output size for a `w` x `h` photo: (a) long edge 2048, (b) 720 wide; never enlarged. */
export function fit(w, h, kind) {
  const scale = Math.min(1, kind === 'a' ? 2048 / Math.max(w, h) : 720 / w);
  return [Math.max(1, Math.round(w * scale)), Math.max(1, Math.round(h * scale))];
}
export const bytesOf = async (blob) => new Uint8Array(await blob.arrayBuffer());
