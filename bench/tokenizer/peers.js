// Counts the tokens of each corpus with npm @anysphere/tiktoken-node (the
// tiktoken Rust core as a native addon) and npm tiktoken (the same core in
// WASM), special-token text as ordinary text, and prints one JSON line per
// corpus, encoding and peer: count and best-of-N throughput in MB/s.
'use strict';
const fs = require('fs');
const path = require('path');
const native = require('@anysphere/tiktoken-node');
const wasm = require('tiktoken');

const corpora = process.argv[2].split(',');
const encodings = process.argv[3].split(',');
const repeat = Number(process.argv[4] || 3);

async function best(run) {
  let bestSeconds = Infinity;
  let count = -1;
  for (let i = 0; i < repeat; i++) {
    const start = process.hrtime.bigint();
    count = await run();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (seconds < bestSeconds) bestSeconds = seconds;
  }
  return { count, seconds: bestSeconds };
}

(async () => {
  const tokenizer = native.getTokenizer();
  const nativeEncoding = { cl100k_base: native.SupportedEncoding.Cl100k, o200k_base: native.SupportedEncoding.O200k };
  for (const corpus of corpora) {
    const text = fs.readFileSync(path.join(__dirname, 'corpus', `${corpus}.txt`), 'utf8');
    const bytes = Buffer.byteLength(text, 'utf8');
    for (const encoding of encodings) {
      const n = await best(() => tokenizer.exactNumTokensNoSpecialTokens(text, nativeEncoding[encoding]));
      console.log(JSON.stringify({ corpus, encoding, peer: 'tiktoken-node', count: n.count, mbps: bytes / n.seconds / 1e6 }));
      const enc = wasm.get_encoding(encoding);
      const w = await best(() => enc.encode_ordinary(text).length);
      enc.free();
      console.log(JSON.stringify({ corpus, encoding, peer: 'tiktoken-wasm', count: w.count, mbps: bytes / w.seconds / 1e6 }));
    }
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
