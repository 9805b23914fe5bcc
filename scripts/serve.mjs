// `npm run serve [-- --port P] [--dir DIR] [--host H]`: serves the static site
// (build/web) over loopback with the headers that make a page cross-origin
// isolated (COOP same-origin + COEP require-corp), which SharedArrayBuffer
// and so the threaded Wasm core need. node:http only; nothing leaves the machine.
import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json', '.json': 'application/json', '.css': 'text/css', '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.npz': 'application/octet-stream',
};
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

/** Serves `dir`; resolves once listening, with the server and its base URL. */
export function serve({ dir = join(root, 'build', 'web'), port = 8080, host = '127.0.0.1' } = {}) {
  const base = resolve(dir);
  if (!existsSync(join(base, 'index.html'))) throw new Error(`${base} holds no index.html: run \`npm run build:web\` first`);
  const server = createServer((req, res) => {
    let path;
    try { path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname); } catch { res.writeHead(400).end(); return; }
    let file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) { res.writeHead(403).end(); return; }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) { res.writeHead(404, ISOLATION_HEADERS).end('not found'); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache', ...ISOLATION_HEADERS });
    res.end(readFileSync(file));
  });
  return new Promise((res, rej) => {
    server.once('error', (e) => rej(new Error(e.code === 'EADDRINUSE' ? `port ${port} is in use: pick another with --port P` : e.message)));
    server.listen(port, host, () => res({ server, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${server.address().port}/` }));
  });
}

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    if (a === '--port' && /^\d+$/.test(v ?? '') && Number(v) < 65536) { o.port = Number(v); i++; }
    else if (a === '--dir' && v) { o.dir = v; i++; }
    else if (a === '--host' && v) { o.host = v; i++; }
    else throw new Error(`unknown or incomplete argument '${a}': use --port P (0..65535), --dir DIR, --host H`);
  }
  return o;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const o = parseArgs(process.argv.slice(2));
    const { url } = await serve(o);
    console.log(`serving ${resolve(o.dir ?? join(root, 'build', 'web'))} at ${url} (cross-origin isolated; Ctrl-C stops it)`);
  } catch (e) {
    console.error(`serve: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
    process.exit(1);
  }
}
