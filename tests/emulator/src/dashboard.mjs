// SPDX-License-Identifier: MIT
// The dashboard's files: the page at /, its modules under /ui/, and browser libraries from npm under
// /vendor/. A URL maps to a file only inside its folder: no dot segments, no hidden names, no
// separators inside a segment, and the real path (symbolic links followed) must stay in the folder.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const EMULATOR_DIR = path.join(HERE, '..');
const FILE_LIMIT = 4 * 1024 * 1024;

/** URL prefix -> folder. */
export const DEFAULT_MOUNTS = {
  '/ui/': path.join(EMULATOR_DIR, 'dashboard'),
  '/vendor/uplot/': path.join(EMULATOR_DIR, 'node_modules', 'uplot', 'dist'),
};

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};

// Nothing from elsewhere: scripts, styles and connections to this server only.
export const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export class StaticError extends Error {}

export class Dashboard {
  constructor(mounts = DEFAULT_MOUNTS) {
    this.mounts = Object.entries(mounts);
  }

  /**
   * The file for a URL path (as sent, percent-encoded): { body, type } or null when there is none.
   * Throws StaticError for a path that tries to leave its folder or cannot name a file.
   */
  async file(urlPath) {
    if (urlPath === '/' || urlPath === '/index.html') urlPath = '/ui/index.html';
    const mount = this.mounts.find(([prefix]) => urlPath.startsWith(prefix));
    if (!mount) return null;
    const [prefix, dir] = mount;
    const segments = urlPath.slice(prefix.length).split('/').map((s) => {
      let name;
      try {
        name = decodeURIComponent(s);
      } catch {
        throw new StaticError('malformed percent-encoding in the path');
      }
      if (name === '' || name.startsWith('.') || /[/\\\0]/.test(name)) throw new StaticError('the path must name a file of the dashboard');
      return name;
    });
    const type = TYPES[path.extname(segments[segments.length - 1]).toLowerCase()];
    if (!type) return null;
    let root;
    let real;
    try {
      root = await fs.realpath(dir);
      real = await fs.realpath(path.join(dir, ...segments));
    } catch {
      return null;
    }
    if (!real.startsWith(root + path.sep)) throw new StaticError('the path must name a file of the dashboard');
    let handle;
    try {
      handle = await fs.open(real, 'r');
      const st = await handle.stat();
      if (!st.isFile() || st.size > FILE_LIMIT) return null;
      return { body: await handle.readFile(), type };
    } catch {
      return null;
    } finally {
      if (handle) await handle.close();
    }
  }

  /** Writes a found file to res. */
  static write(res, { body, type }) {
    const headers = {
      'content-type': type,
      'content-length': body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    };
    if (type.startsWith('text/html')) headers['content-security-policy'] = CONTENT_SECURITY_POLICY;
    res.writeHead(200, headers);
    res.end(body);
  }
}
