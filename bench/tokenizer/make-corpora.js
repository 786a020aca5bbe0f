// Builds the four ~10 MB benchmark corpora in corpus/ from files on a Debian
// machine with nodejs installed (its API docs), the C headers in /usr/include,
// the Chinese, Japanese and Korean man pages, and the project's JSON test
// data pretty-printed.  File lists are sorted, so every run builds the same
// bytes on the same machine.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const SIZE = 10 * 1000 * 1000;
const out = path.join(__dirname, 'corpus');

function walk(dir, accept, found = []) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    return found;
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, accept, found);
    else if (entry.isFile() && accept(full)) found.push(full);
  }
  return found;
}

// Concatenates texts, repeating them if needed, to SIZE bytes cut at a character boundary.
function fill(name, texts) {
  const parts = texts.filter((t) => t.length > 0);
  if (parts.length === 0) throw new Error(`no input for corpus ${name}`);
  const chunks = [];
  let size = 0;
  for (let i = 0; size < SIZE; i = (i + 1) % parts.length) {
    const buffer = Buffer.from(parts[i], 'utf8');
    chunks.push(buffer);
    size += buffer.length;
  }
  let all = Buffer.concat(chunks).subarray(0, SIZE);
  let end = all.length;
  while (end > 0 && (all[end - 1] & 0xc0) === 0x80) end--;
  if (end > 0 && all[end - 1] >= 0xc0) end--;
  all = all.subarray(0, end);
  fs.writeFileSync(path.join(out, `${name}.txt`), all);
  console.log(`${name}: ${all.length} bytes from ${parts.length} files`);
}

fs.mkdirSync(out, { recursive: true });

fill('english', walk('/usr/share/doc/nodejs/api', (f) => f.endsWith('.md'))
  .map((f) => fs.readFileSync(f, 'utf8')));

fill('code', walk('/usr/include', (f) => f.endsWith('.h'))
  .map((f) => fs.readFileSync(f, 'utf8')));

const manDirs = ['zh_CN', 'zh_TW', 'ja', 'ko'].map((d) => `/usr/share/man/${d}`);
fill('cjk', manDirs.flatMap((d) => walk(d, (f) => f.endsWith('.gz')))
  .map((f) => zlib.gunzipSync(fs.readFileSync(f)).toString('utf8'))
  // drop roff comments, which are English boilerplate
  .map((t) => t.split('\n').filter((l) => !l.startsWith('.\\"')).join('\n')));

const dataDir = path.join(__dirname, '..', '..', '..', 'shared', 'data');
const jsonDirs = [dataDir, '/work/shared/data'].filter((d) => fs.existsSync(d));
fill('whitespace', walk(jsonDirs[0] || '/nonexistent', (f) => f.endsWith('.jsonl') || f.endsWith('.json'))
  .map((f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => {
    try {
      return JSON.stringify(JSON.parse(l), null, 8) + '\n';
    } catch (e) {
      return l + '\n';
    }
  }).join('')));
