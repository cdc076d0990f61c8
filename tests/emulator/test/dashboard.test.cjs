// SPDX-License-Identifier: MIT
// The dashboard's server side: its files (and nothing outside their folders), and the server-sent
// event streams (content, bounds, and their end when the emulator stops).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { api, rawHub, direct, uniqueId } = require('./helpers.cjs');

const DASHBOARD = path.join(__dirname, '..', 'dashboard');

/** An emulator in this process (for options the command line does not offer), shaped like helpers' one. */
async function inProcess(opts = {}) {
  const { startEmulator } = await import('../src/emulator.mjs');
  const emu = await startEmulator({ verbosity: 0, retryAfter: 0, ...opts });
  const info = emu.info();
  return { emu, ...info, apiBase: info.api, ca: fs.readFileSync(info.caFile, 'utf8'), api: (m, u, b) => api(info.api, m, u, b), stop: () => emu.stop() };
}

/** GET with the path exactly as given (no client-side normalisation of dot segments). */
function rawGet(base, rawPath, method = 'GET') {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: rawPath, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An event stream: next(name) resolves to the next event of that name (queued ones first). */
function openStream(base, streamPath) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: hostname, port, path: streamPath, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(body) }));
        return;
      }
      const queue = [];
      const waiting = [];
      let buf = '';
      const ended = new Promise((r) => res.on('close', r));
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block);
          const data = /^data: (.*)$/m.exec(block);
          if (!ev || !data) continue;
          queue.push({ event: ev[1], data: JSON.parse(data[1]) });
          for (const w of [...waiting]) w();
        }
      });
      const next = (name, pred = () => true, timeoutMs = 10000) => new Promise((res2, rej2) => {
        const look = () => {
          const i = queue.findIndex((e) => e.event === name && pred(e.data));
          if (i < 0) return false;
          const [e] = queue.splice(i, 1);
          waiting.splice(waiting.indexOf(look), 1);
          clearTimeout(timer);
          res2(e.data);
          return true;
        };
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(look), 1);
          rej2(new Error(`no ${name} event within ${timeoutMs} ms (got ${queue.map((e) => e.event).join(', ')})`));
        }, timeoutMs);
        waiting.push(look);
        look();
      });
      resolve({ status: 200, headers: res.headers, next, ended, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

test('the page, its modules and uPlot are served, the page with a policy that allows this server only', async (t) => {
  const emu = await inProcess();
  t.after(() => emu.stop());
  const page = await rawGet(emu.apiBase, '/');
  assert.equal(page.status, 200);
  assert.match(page.headers['content-type'], /^text\/html/);
  assert.match(page.headers['content-security-policy'], /default-src 'self'/);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  assert.match(page.body, /ui\/app\.mjs/);
  // Every module the page loads, and every module those import, is served with a JavaScript type.
  const seen = new Set();
  const todo = ['/ui/app.mjs'];
  while (todo.length) {
    const p = todo.pop();
    if (seen.has(p)) continue;
    seen.add(p);
    const r = await rawGet(emu.apiBase, p);
    assert.equal(r.status, 200, `${p}: ${r.body.slice(0, 200)}`);
    assert.match(r.headers['content-type'], /^text\/javascript/, p);
    for (const m of r.body.matchAll(/^import .* from '([^']+)';$/gm)) todo.push(new URL(m[1], `http://x${p}`).pathname);
  }
  assert.ok(seen.has('/vendor/uplot/uPlot.esm.js'), [...seen].join(' '));
  for (const p of ['/ui/styles.css', '/vendor/uplot/uPlot.min.css', '/ui/favicon.svg']) {
    const r = await rawGet(emu.apiBase, p);
    assert.equal(r.status, 200, p);
  }
  const post = await rawGet(emu.apiBase, '/', 'POST');
  assert.equal(post.status, 405);
});

test('no path leaves the dashboard\'s folders', async (t) => {
  const emu = await inProcess();
  t.after(() => emu.stop());
  const attempts = [
    '/ui/../package.json', '/ui/..%2fpackage.json', '/ui/%2e%2e/%2e%2e/package.json', '/ui/%2e%2e%2f%2e%2e%2fpackage.json',
    '/vendor/uplot/..%2f..%2f..%2fpackage.json', '/vendor/uplot/../../../../etc/passwd', '/vendor/uplot/%2e%2e%2f%2e%2e%2fpackage.json',
    '/ui/..\\..\\package.json', '/ui/%5c..%5c..%5cpackage.json', '/ui/.%2e/src/api.mjs', '/ui/%2fetc%2fpasswd', '/ui//etc/passwd',
    '/ui/%00.mjs', '/ui/app.mjs%00.html', '/ui/%zz.mjs', '/vendor/../src/api.mjs', '/vendor/aedes/package.json', '/ui/.hidden.css',
    '/ui/../../../../../../etc/passwd', '/ui/%252e%252e/package.json', '/index.html/../src/api.mjs',
  ];
  for (const p of attempts) {
    const r = await rawGet(emu.apiBase, p);
    assert.ok(r.status === 400 || r.status === 404, `${p}: HTTP ${r.status}`);
    assert.doesNotMatch(r.body, /iotc-emulator|root:|SPDX|export /, p);
    assert.ok(JSON.parse(r.body).error.code, p);
  }
});

test('a symbolic link out of a folder is refused, one inside it is followed', async (t) => {
  const { Dashboard, StaticError } = await import('../src/dashboard.mjs');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iotc-dashboard-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'ui'));
  fs.writeFileSync(path.join(dir, 'secret.css'), 'secret');
  fs.writeFileSync(path.join(dir, 'ui', 'in.css'), 'inside');
  fs.symlinkSync(path.join(dir, 'secret.css'), path.join(dir, 'ui', 'out.css'));
  fs.symlinkSync(path.join(dir, 'ui', 'in.css'), path.join(dir, 'ui', 'alias.css'));
  const d = new Dashboard({ '/ui/': path.join(dir, 'ui') });
  assert.equal((await d.file('/ui/in.css')).body.toString(), 'inside');
  assert.equal((await d.file('/ui/alias.css')).body.toString(), 'inside');
  await assert.rejects(d.file('/ui/out.css'), StaticError);
  assert.equal(await d.file('/ui/missing.css'), null);
  assert.equal(await d.file('/ui/in.exe'), null, 'unknown types are not served');
  assert.equal(await d.file('/elsewhere/in.css'), null);
});

test('a device\'s stream: snapshot, connection changes, messages, wire entries (redacted), properties', async (t) => {
  const emu = await inProcess();
  t.after(() => emu.stop());
  const dev = await direct(emu, 'dash-stream');
  const s = await openStream(emu.apiBase, `/emulator/events?deviceId=${dev.id}`);
  t.after(() => s.close());
  assert.equal(s.status, 200);
  assert.match(s.headers['content-type'], /^text\/event-stream/);
  const snap = await s.next('snapshot');
  assert.equal(snap.device.id, dev.id);
  assert.equal(snap.device.connected, false);
  assert.deepEqual(snap.messages, []);

  const client = await rawHub(emu, dev);
  t.after(() => client.end(true));
  const up = await s.next('state', (d) => d.device.connected);
  assert.equal(up.device.hub, dev.hub);
  assert.ok(up.device.since);
  const connect = await s.next('wire', (w) => w.type === 'CONNECT');
  assert.match(connect.password, /sig=/);
  assert.doesNotMatch(connect.password, /sig=[A-Za-z0-9%]{20,}/, 'the signature is redacted');

  await new Promise((resolve) => client.publish(`devices/${dev.id}/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8`, JSON.stringify({ temp: 21.5 }), { qos: 1 }, resolve));
  const msg = await s.next('message');
  assert.deepEqual(msg.json, { temp: 21.5 });
  assert.equal(msg.properties['$.ct'], 'application/json');

  assert.equal((await emu.api('PATCH', `/api/devices/${dev.id}/properties`, { brightness: 3 })).status, 200);
  const desired = await s.next('state', (d) => d.properties.$metadata && d.properties.$metadata.brightness);
  assert.equal(desired.properties.$metadata.brightness.desiredValue, 3);

  assert.equal((await emu.api('POST', `/emulator/devices/${dev.id}/disconnect`)).status, 200);
  const down = await s.next('state', (d) => !d.device.connected);
  assert.equal(down.device.since, null);

  // A reconnecting page gets a snapshot with what happened so far.
  const again = await openStream(emu.apiBase, `/emulator/events?deviceId=${dev.id}`);
  t.after(() => again.close());
  const snap2 = await again.next('snapshot');
  assert.equal(snap2.messages.length, 1);
  assert.ok(snap2.wire.some((w) => w.type === 'CONNECT'));
});

test('a snapshot holds the newest messages that fit its count and bytes', async (t) => {
  const emu = await inProcess({ events: { snapshotMessages: 3, snapshotBytes: 850 } });
  t.after(() => emu.stop());
  const dev = await direct(emu, 'dash-snap');
  const client = await rawHub(emu, dev);
  t.after(() => client.end(true));
  const send = (n, size) => new Promise((resolve) => client.publish(`devices/${dev.id}/messages/events/`, JSON.stringify({ n, pad: 'x'.repeat(size) }), { qos: 1 }, resolve));
  for (let n = 1; n <= 5; n++) await send(n, 10);
  let s = await openStream(emu.apiBase, `/emulator/events?deviceId=${dev.id}`);
  assert.deepEqual((await s.next('snapshot')).messages.map((m) => m.json.n), [3, 4, 5], 'the newest 3');
  s.close();
  await send(6, 400);
  await send(7, 400);
  s = await openStream(emu.apiBase, `/emulator/events?deviceId=${dev.id}`);
  t.after(() => s.close());
  assert.deepEqual((await s.next('snapshot')).messages.map((m) => m.json.n), [6, 7], 'what fits in 850 bytes (two of 417, not a third of 27)');
});

test('the list stream follows devices being created and deleted', async (t) => {
  const emu = await inProcess();
  t.after(() => emu.stop());
  const s = await openStream(emu.apiBase, '/emulator/events');
  t.after(() => s.close());
  await s.next('devices');
  const id = uniqueId('dash-list');
  assert.equal((await emu.api('PUT', `/api/devices/${id}`, { displayName: 'Listed' })).status, 201);
  const listed = await s.next('devices', (d) => d.value.some((v) => v.id === id));
  assert.equal(listed.value.find((v) => v.id === id).displayName, 'Listed');
  assert.equal((await emu.api('DELETE', `/api/devices/${id}`)).status, 204);
  await s.next('devices', (d) => !d.value.some((v) => v.id === id));
});

test('streams are bounded in number, refused for unknown devices, and closed when the emulator stops', async (t) => {
  const emu = await inProcess({ events: { maxClients: 2 } });
  t.after(() => emu.stop());
  const unknown = await openStream(emu.apiBase, '/emulator/events?deviceId=nobody');
  assert.equal(unknown.status, 404);
  const a = await openStream(emu.apiBase, '/emulator/events');
  const b = await openStream(emu.apiBase, '/emulator/events');
  await a.next('devices');
  await b.next('devices');
  const c = await openStream(emu.apiBase, '/emulator/events');
  assert.equal(c.status, 503);
  assert.equal(c.body.error.code, 'ServiceUnavailable');
  a.close();
  await a.ended;
  let d;
  for (let i = 0; i < 50; i++) {
    if (emu.emu.events.clients.size < 2) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  d = await openStream(emu.apiBase, '/emulator/events');
  assert.equal(d.status, 200, 'a closed stream frees its place');
  await emu.stop();
  await Promise.all([b.ended, d.ended]);
  assert.equal(emu.emu.events.clients.size, 0);
});

test('a client that does not read is dropped instead of buffered without end', async () => {
  const { Events } = await import('../src/events.mjs');
  const fakeEmu = { registry: { devices: new Map() } };
  const events = new Events(fakeEmu, { maxBufferedBytes: 100 });
  const res = {
    writableLength: 0, destroyed: false, writableEnded: false, written: '',
    writeHead() {}, on() {}, destroy() { this.destroyed = true; },
    write(text) { this.written += text; this.writableLength += text.length; },
  };
  events.open(res, null);
  assert.equal(events.clients.size, 1);
  res.writableLength = 1000; // the client stopped reading
  events.registryChanged();
  await new Promise((r) => setTimeout(r, events.opts.listDelayMs + 50));
  assert.equal(events.clients.size, 0);
  assert.equal(res.destroyed, true);
  events.close();
});
