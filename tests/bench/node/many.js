// SPDX-License-Identifier: MIT
'use strict';
// Node SDK: K devices in one process, one Client each. Same schedule and output as paho-many:
// connect in steps (--steps 100,1000) with at most --connect-window connects under way, one QoS 1
// message per device at once and then every --period seconds, RSS and CPU sampled after
// --window-ms of steady running per step.
const { arg, cpuSeconds, rssKib, readDevices, print, fail, message } = require('./common');
const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const steps = arg('--steps', '100').split(',').map(Number);
  const period = Number(arg('--period', '10')) * 1000;
  const windowMs = Number(arg('--window-ms', '5000'));
  const connectWindow = Number(arg('--connect-window', '50'));
  const devices = readDevices(arg('--devices'), Math.max(...steps));

  const rss0 = rssKib();
  const clients = [];
  let seq = 0;
  let acked = 0;
  let sendFailed = 0;
  let started = 0;
  const out = [];
  const connectOne = async (d) => {
    const client = Client.fromConnectionString(`HostName=${d.hub};DeviceId=${d.id};SharedAccessKey=${d.key}`, Mqtt);
    client.on('error', () => {});
    clients.push(client);
    await client.open();
    const send = () => client.sendEvent(message(Message, seq++), (err) => (err ? sendFailed++ : acked++));
    send();
    client.timer = setInterval(send, period);
  };
  for (const k of steps) {
    const t0 = process.hrtime.bigint();
    const pending = new Set();
    while (started < k) {
      const p = connectOne(devices[started++]).finally(() => pending.delete(p));
      pending.add(p);
      if (pending.size >= connectWindow) await Promise.race(pending);
    }
    await Promise.all(pending);
    const connectS = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu0 = cpuSeconds();
    const w0 = process.hrtime.bigint();
    const seq0 = seq;
    await sleep(windowMs);
    out.push({
      k, rss_kib: rssKib(), connect_s: connectS, window_s: Number(process.hrtime.bigint() - w0) / 1e9,
      cpu_s: cpuSeconds() - cpu0, window_messages: seq - seq0, acked, send_failed: sendFailed,
    });
  }
  print({ ok: true, rss0_kib: rss0, steps: out });
  for (const c of clients) clearInterval(c.timer);
  process.exit(0);
}

main().catch(fail);
