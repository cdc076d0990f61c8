#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Measures how many QoS 1 telemetry messages per second the emulator's hub accepts from one device.
//   node tools/throughput.cjs [--messages N] [--size BYTES] [--window W]
// Starts its own emulator, provisions one device directly on a hub, warms up, then publishes N
// messages with at most W unacknowledged, and prints one JSON line with the rate.
'use strict';
const mqtt = require('mqtt');
const { startEmulator } = require('../test/helpers.cjs');
const crypto = require('node:crypto');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

function sas(resource, key, ttl) {
  const se = Math.floor(Date.now() / 1000) + ttl;
  const sr = encodeURIComponent(resource);
  const sig = crypto.createHmac('sha256', Buffer.from(key, 'base64')).update(`${sr}\n${se}`).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}`;
}

async function run(client, topic, payload, count, window) {
  let sent = 0;
  let acked = 0;
  return new Promise((resolve, reject) => {
    const pump = () => {
      while (sent < count && sent - acked < window) {
        sent++;
        client.publish(topic, payload, { qos: 1 }, (err) => {
          if (err) return reject(err);
          acked++;
          if (acked === count) resolve();
          else pump();
        });
      }
    };
    pump();
  });
}

(async () => {
  const count = arg('--messages', 100000);
  const size = arg('--size', 200);
  const window = arg('--window', 1000);
  const emu = await startEmulator(['--retry-after', '0']);
  try {
    const id = 'throughput-1';
    const p = await emu.api('POST', `/emulator/devices/${id}/provision`, {});
    const hub = p.body.assignedHub;
    const client = mqtt.connect(`mqtts://${hub}`, {
      clientId: id, username: `${hub}/${id}/?api-version=2021-04-12`, password: sas(`${hub}/devices/${id}`, p.body.primaryKey, 3600),
      ca: emu.ca, protocolVersion: 4, clean: false, reconnectPeriod: 0,
    });
    await new Promise((res, rej) => { client.once('connect', res); client.once('error', rej); });
    const topic = `devices/${id}/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8`;
    const body = JSON.stringify({ temperature: 21.5, pad: 'x'.repeat(Math.max(0, size - 40)) });
    await run(client, topic, body, Math.min(20000, count), window); // warm up the JIT on both sides
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await run(client, topic, body, count, window);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const msgs = await emu.api('GET', `/emulator/devices/${id}/messages?since=0&limit=1`);
    const stats = await emu.api('GET', '/emulator/stats');
    console.log(JSON.stringify({
      messages: count, bytes: Buffer.byteLength(body), window, seconds: +seconds.toFixed(3),
      perSecond: Math.round(count / seconds), clientCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2),
      retainedDropped: msgs.body.dropped, emulatorRssMiB: Math.round(stats.body.rssBytes / 1048576),
    }));
    await new Promise((res) => client.end(false, {}, res));
  } finally {
    await emu.stop();
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
