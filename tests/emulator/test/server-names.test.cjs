// SPDX-License-Identifier: MIT
// --server-names: the servers' certificate names exactly the hosts asked for, so a client can meet a
// host name mismatch without any help from /etc/hosts.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const tls = require('node:tls');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { startEmulator } = require('./helpers.cjs');

const BIN = path.join(__dirname, '..', 'bin', 'iotc-emulator.mjs');

let emu;
test.before(async () => { emu = await startEmulator(['--server-names', '127.0.0.1']); });
test.after(async () => { await emu.stop(); });

const port = (hostPort) => Number(hostPort.split(':').pop());

/** TLS to 127.0.0.1:port checked against servername (or the IP itself); resolves to the peer certificate. */
function handshake(p, servername) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: p, ca: emu.ca, servername }, () => {
      const cert = s.getPeerCertificate();
      s.destroy();
      resolve(cert);
    });
    s.once('error', reject);
  });
}

test('every TLS service presents a certificate for the asked names only', async () => {
  for (const hostPort of [emu.dps.mqtt, emu.dps.https, ...emu.hubs]) {
    const cert = await handshake(port(hostPort));
    assert.equal(cert.subjectaltname, 'IP Address:127.0.0.1', hostPort);
    assert.equal(cert.subject.CN, '127.0.0.1', hostPort);
  }
});

test('a client dialling localhost meets a host name mismatch', async () => {
  for (const hostPort of [emu.dps.mqtt, emu.dps.https, emu.hubs[0]]) {
    await assert.rejects(handshake(port(hostPort), 'localhost'), (err) => err.code === 'ERR_TLS_CERT_ALTNAME_INVALID');
  }
});

test('the default certificate names localhost, 127.0.0.1 and ::1', async () => {
  const plain = await startEmulator(['--retry-after', '0']);
  try {
    const cert = await new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: port(plain.hubs[0]), ca: plain.ca, servername: 'localhost' }, () => {
        resolve(s.getPeerCertificate());
        s.destroy();
      });
      s.once('error', reject);
    });
    assert.equal(cert.subjectaltname, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.equal(cert.subject.CN, 'localhost');
  } finally {
    await plain.stop();
  }
});

test('names that cannot go into a certificate are refused before anything starts', () => {
  for (const bad of ['', '127.1', 'a b', 'x,X', 'localhost,', 'fe80::1%eth0', 'a/b', 'a\nb']) {
    const r = spawnSync(process.execPath, [BIN, '--server-names', bad], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 2, `${JSON.stringify(bad)}: ${r.stderr}`);
    assert.match(r.stderr, /bad server names/);
    assert.equal(r.stdout, '');
  }
});
