// SPDX-License-Identifier: MIT
// Connection lifecycle with the official SDK: SAS expiry, one connection per device, failover to the
// other hub, and the emulator's own start/stop contract.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
const { NoRetry } = require('azure-iot-common');
const { startEmulator, derive, provision, hubClient, uniqueId, once, Client, Mqtt } = require('./helpers.cjs');

let emu;
test.before(async () => { emu = await startEmulator(['--retry-after', '0']); });
test.after(async () => { await emu.stop(); });

function hubSas(hub, id, key, ttlSeconds) {
  const se = Math.floor(Date.now() / 1000) + ttlSeconds;
  const sr = encodeURIComponent(`${hub}/devices/${id}`);
  const sig = crypto.createHmac('sha256', Buffer.from(key, 'base64')).update(`${sr}\n${se}`).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}`;
}

test('the hub closes the connection when the SAS token expires', async () => {
  const id = uniqueId('expiry');
  const key = derive(emu.groupKey, id);
  const reg = await provision(emu, id, key);
  const client = Client.fromSharedAccessSignature(hubSas(reg.assignedHub, id, key, 2), Mqtt);
  client.setRetryPolicy(new NoRetry());
  await client.setOptions({ ca: emu.ca });
  await client.open();
  const t0 = Date.now();
  const gone = once(client, 'disconnect', 5000);
  const w = await emu.api('GET', `/emulator/devices/${id}/wait?connected=false&timeoutMs=5000`);
  assert.equal(w.status, 200);
  await gone;
  assert.ok(Date.now() - t0 >= 500, 'closed too early');
  const wire = await emu.api('GET', `/emulator/wire?deviceId=${id}`);
  assert.ok(wire.body.value.some((e) => e.type === 'DISCONNECT' && e.reason === 'SAS token expired'));
  // An expired token is refused outright.
  const late = Client.fromSharedAccessSignature(hubSas(reg.assignedHub, id, key, -10), Mqtt);
  late.setRetryPolicy(new NoRetry());
  await late.setOptions({ ca: emu.ca });
  await assert.rejects(late.open(), (err) => err.name === 'UnauthorizedError');
  await client.close().catch(() => {});
});

test('a bad SAS key is refused by the hub with not-authorised', async () => {
  const id = uniqueId('hub-bad');
  const reg = await provision(emu, id, derive(emu.groupKey, id));
  const client = Client.fromConnectionString(`HostName=${reg.assignedHub};DeviceId=${id};SharedAccessKey=${Buffer.alloc(32, 9).toString('base64')}`, Mqtt);
  client.setRetryPolicy(new NoRetry());
  await client.setOptions({ ca: emu.ca });
  await assert.rejects(client.open(), (err) => err.name === 'UnauthorizedError');
});

test('a second connection for the same device replaces the first', async () => {
  const id = uniqueId('dup');
  const key = derive(emu.groupKey, id);
  const reg = await provision(emu, id, key);
  const first = await hubClient(emu, reg.assignedHub, id, key);
  first.setRetryPolicy(new NoRetry());
  const gone = once(first, 'disconnect', 5000);
  const second = await hubClient(emu, reg.assignedHub, id, key);
  await gone;
  const view = await emu.api('GET', `/emulator/devices/${id}`);
  assert.equal(view.body.connected, true);
  await second.close();
  await first.close().catch(() => {});
});

test('failover moves the device to the other hub; the old hub refuses it and DPS gives the new one', async () => {
  const id = uniqueId('failover');
  const key = derive(emu.groupKey, id);
  const reg = await provision(emu, id, key);
  const client = await hubClient(emu, reg.assignedHub, id, key);
  client.setRetryPolicy(new NoRetry());
  const gone = once(client, 'disconnect', 5000);
  const f = await emu.api('POST', `/emulator/devices/${id}/failover`);
  assert.equal(f.status, 200);
  assert.equal(f.body.from, reg.assignedHub);
  assert.notEqual(f.body.to, reg.assignedHub);
  await gone;
  await client.close().catch(() => {});
  const again = Client.fromConnectionString(`HostName=${reg.assignedHub};DeviceId=${id};SharedAccessKey=${key}`, Mqtt);
  again.setRetryPolicy(new NoRetry());
  await again.setOptions({ ca: emu.ca });
  await assert.rejects(again.open(), (err) => err.name === 'UnauthorizedError');
  const reg2 = await provision(emu, id, key, { kind: 'https' });
  assert.equal(reg2.assignedHub, f.body.to);
  const moved = await hubClient(emu, reg2.assignedHub, id, key);
  const dev = await emu.api('GET', `/api/devices/${id}`);
  assert.equal(dev.body.hub, f.body.to);
  assert.equal(dev.body.connected, true);
  await moved.close();
});

test('SIGTERM stops the emulator promptly, and it exits when its parent dies', async () => {
  const other = await startEmulator(['--retry-after', '0']);
  const t0 = Date.now();
  assert.equal(await other.stop(), 0);
  // The target is well under a second; the bound only catches a hang on a loaded machine.
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);

  // A parent shell that dies right after starting the emulator.
  const bin = path.join(__dirname, '..', 'bin', 'iotc-emulator.mjs');
  const parent = spawn('/bin/sh', ['-c', `"${process.execPath}" "${bin}" --parent-pid $$ & echo $!; read x`], { stdio: ['pipe', 'pipe', 'ignore'] });
  const rl = readline.createInterface({ input: parent.stdout });
  const lines = [];
  rl.on('line', (l) => lines.push(l));
  for (let i = 0; i < 100 && lines.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(JSON.parse(lines[1]).ready, true);
  const pid = Number(lines[0]);
  parent.kill('SIGKILL');
  // Once orphaned, the emulator is reaped by init, which may take its time: a zombie counts as gone.
  const running = () => {
    try {
      return !/^\d+ \(.*\) Z/.test(require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  let alive = true;
  for (let i = 0; i < 200 && alive; i++) {
    await new Promise((r) => setTimeout(r, 50));
    alive = running();
  }
  if (alive) process.kill(pid, 'SIGKILL');
  assert.equal(alive, false, 'emulator outlived its parent');
});

test('--config and --state-dir: devices, twin and ID scope survive a restart', async () => {
  const fs = require('node:fs');
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iotc-emu-state-'));
  try {
    const config = path.join(dir, 'config.json');
    fs.writeFileSync(config, JSON.stringify({ idScope: '0ne0000CAFE', devices: [{ id: 'from-config', displayName: 'Configured', template: 'dtmi:c:d;1' }] }));
    const first = await startEmulator(['--config', config, '--state-dir', path.join(dir, 'state'), '--retry-after', '0']);
    assert.equal(first.idScope, '0ne0000CAFE');
    assert.equal((await first.api('GET', '/api/devices/from-config')).body.displayName, 'Configured');
    await first.api('PUT', '/api/devices/from-config/properties', { led: 'on' });
    await first.stop();
    const second = await startEmulator(['--state-dir', path.join(dir, 'state'), '--retry-after', '0']);
    try {
      assert.equal(second.idScope, '0ne0000CAFE');
      assert.equal(second.groupKey, first.groupKey);
      assert.equal(second.ca, first.ca);
      const twin = await second.api('GET', '/emulator/devices/from-config/twin');
      assert.equal(twin.body.desired.led, 'on');
      assert.equal(twin.body.desired.$version, 2);
    } finally {
      await second.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
