// SPDX-License-Identifier: MIT
// An HTTP CONNECT proxy for tests, with Basic authentication. argv: log file, parent pid.
// Environment: PROXY_CREDENTIALS "user:password" (required credentials; none when unset; in the
// environment, not argv, so the password is not in the process list), PROXY_MODE: tunnel
// (default), 403 or 502 (answer every CONNECT so), hangup (close after reading the request).
// Prints "PORT n" when listening; logs "CONNECT host:port auth=ok|none|bad" per request (never
// the credentials). Dials every address the target resolves to in turn. Exits with its parent.
'use strict';
const net = require('net');
const fs = require('fs');
const dns = require('dns');

const [log, ppid] = process.argv.slice(2);
const expected = process.env.PROXY_CREDENTIALS ? Buffer.from(process.env.PROXY_CREDENTIALS).toString('base64') : null;
const mode = process.env.PROXY_MODE || 'tunnel';
delete process.env.PROXY_CREDENTIALS;

function dial(addrs, port, ok, fail) {
  if (!addrs.length) return fail();
  const u = net.connect(port, addrs[0].address, () => { u.removeAllListeners('error'); ok(u); });
  u.once('error', () => dial(addrs.slice(1), port, ok, fail));
}

const srv = net.createServer((c) => {
  c.on('error', () => {});
  let buf = Buffer.alloc(0);
  const onData = (d) => {
    buf = Buffer.concat([buf, d]);
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    c.off('data', onData);
    const head = buf.subarray(0, end).toString('latin1');
    const m = /^CONNECT ([^\s]+):(\d+) HTTP\/1\.[01]\r\n/.exec(head);
    if (!m) return c.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    const a = /\r\nProxy-Authorization:\s*Basic\s+([^\r\n]+)/i.exec(head);
    const auth = !a ? 'none' : expected && a[1].trim() === expected ? 'ok' : 'bad';
    fs.appendFileSync(log, `CONNECT ${m[1]}:${m[2]} auth=${auth}\n`);
    if (mode === 'hangup') return c.destroy();
    if (expected && auth !== 'ok') {
      return c.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
    }
    if (mode === '403') return c.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
    const bad = () => c.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
    if (mode === '502') return bad();
    dns.lookup(m[1].replace(/^\[|\]$/g, ''), { all: true }, (e, addrs) => {
      if (e) return bad();
      dial(addrs, +m[2], (u) => {
        c.write('HTTP/1.1 200 Connection established\r\n\r\n');
        const rest = buf.subarray(end + 4);
        if (rest.length) u.write(rest);
        c.pipe(u);
        u.pipe(c);
        u.on('error', () => c.destroy());
        c.on('close', () => u.destroy());
      }, bad);
    });
  };
  c.on('data', onData);
});
srv.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${srv.address().port}\n`));
setInterval(() => {
  try { process.kill(+ppid, 0); } catch (e) { process.exit(0); }
}, 500);
