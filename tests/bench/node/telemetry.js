// SPDX-License-Identifier: MIT
'use strict';
// Node SDK: one device sends --count QoS 1 telemetry messages of 200 bytes, keeping --inflight of
// them unacknowledged (each completion sends the next). The CA comes from NODE_EXTRA_CA_CERTS.
const { arg, cpuSeconds, rssKib, print, fail, message } = require('./common');
const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');

async function main() {
  const hub = arg('--hub');
  const device = arg('--device');
  const key = arg('--key');
  const count = Number(arg('--count', '20000'));
  const window = Number(arg('--inflight', '10'));
  const client = Client.fromConnectionString(`HostName=${hub};DeviceId=${device};SharedAccessKey=${key}`, Mqtt);
  client.on('error', fail);
  await client.open();

  const cpu0 = cpuSeconds();
  const t0 = process.hrtime.bigint();
  await new Promise((resolve, reject) => {
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
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds() - cpu0;
  const rss = rssKib();
  await client.close();
  print({ ok: true, messages: count, seconds, cpu_s: cpu, rss_kib: rss });
  process.exit(0);
}

main().catch(fail);
