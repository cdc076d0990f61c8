// SPDX-License-Identifier: MIT
'use strict';
// Node SDK: one device sends --count QoS 1 telemetry messages of 200 bytes, keeping --inflight of
// them unacknowledged (each completion sends the next), after an untimed batch of --warmup (default
// 0). The CA comes from NODE_EXTRA_CA_CERTS.
const { arg, cpuSeconds, rssKib, print, fail, message } = require('./common');
const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');

async function main() {
  const hub = arg('--hub');
  const device = arg('--device');
  const key = arg('--key');
  const count = Number(arg('--count', '20000'));
  const window = Number(arg('--inflight', '10'));
  const warmup = Number(arg('--warmup', '0'));
  const client = Client.fromConnectionString(`HostName=${hub};DeviceId=${device};SharedAccessKey=${key}`, Mqtt);
  client.on('error', fail);
  await client.open();

  // An untimed batch first, the same as the C programs send: V8 compiles the hot paths while it runs.
  if (warmup > 0) await batch(client, warmup, window);
  const cpu0 = cpuSeconds();
  const t0 = process.hrtime.bigint();
  await batch(client, count, window);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds() - cpu0;
  const rss = rssKib();
  await client.close();
  print({ ok: true, messages: count, seconds, cpu_s: cpu, rss_kib: rss });
  process.exit(0);
}

// Sends count messages keeping window unacknowledged.
function batch(client, count, window) {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    const sendNext = () => {
      if (sent >= count) return;
      client.sendEvent(message(Message, sent++), (err) => {
        if (err) return reject(err);
        if (++acked === count) return resolve();
        sendNext();
      });
    };
    for (let i = 0; i < window && i < count; i++) sendNext();
  });
}

main().catch(fail);
