// SPDX-License-Identifier: MIT
// Reachable by every name it gives: each listener answers on 127.0.0.1 and on ::1, and every address
// that a name from the ready line resolves to on this machine reaches the service (Debian's stock
// /etc/hosts maps localhost to ::1 as well, and Node 18 dials only the first address).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const dns = require('node:dns/promises');
const net = require('node:net');
const tls = require('node:tls');
const { startEmulator } = require('./helpers.cjs');

let emu;
let ipv6 = true;
test.before(async () => {
  emu = await startEmulator(['--retry-after', '0']);
  await new Promise((resolve) => {
    const s = net.createServer().once('error', () => { ipv6 = false; resolve(); });
    s.listen(0, '::1', () => s.close(resolve));
  });
});
test.after(async () => { await emu.stop(); });

function portOf(hostPort) {
  return Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
}

/** TLS handshake with certificate and name checks to address:port; resolves to the peer's subject names. */
function handshake(address, port, servername = 'localhost') {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: address, port, ca: emu.ca, servername }, () => {
      const names = s.getPeerCertificate().subjectaltname;
      s.end();
      resolve(names);
    });
    s.setTimeout(5000, () => s.destroy(new Error('timed out')));
    s.once('error', reject);
  });
}

function tlsListeners() {
  return [['hub0', emu.hubs[0]], ['hub1', emu.hubs[1]], ['dps-mqtt', emu.dps.mqtt], ['dps-https', emu.dps.https]];
}

for (const family of ['127.0.0.1', '::1']) {
  test(`every TLS listener answers on ${family}`, async (t) => {
    if (family === '::1' && !ipv6) return t.skip('no IPv6 loopback here');
    for (const [name, hostPort] of tlsListeners()) {
      assert.match(await handshake(family, portOf(hostPort)), /DNS:localhost/, name);
    }
  });

  test(`the operator API answers on ${family}`, async (t) => {
    if (family === '::1' && !ipv6) return t.skip('no IPv6 loopback here');
    const port = portOf(emu.apiBase);
    const r = await fetch(`http://${family === '::1' ? '[::1]' : family}:${port}/emulator/health`);
    assert.equal(r.status, 200);
  });
}

test('every address a ready-line name resolves to reaches its service', async () => {
  for (const [name, hostPort] of tlsListeners()) {
    const host = hostPort.slice(0, hostPort.lastIndexOf(':'));
    const addrs = await dns.lookup(host, { all: true, verbatim: true });
    assert.ok(addrs.length > 0, name);
    for (const a of addrs) await handshake(a.address, portOf(hostPort), host);
  }
});
