// SPDX-License-Identifier: MIT
'use strict';
// Node SDK: one device uploads --mib MiB (a generated stream) with uploadToBlob, the SDK's own
// block size and parallelism. The CA comes from NODE_EXTRA_CA_CERTS (storage trusts it only that
// way). Prints one JSON line like iotc-upload.
const https = require('https');
const { Readable } = require('stream');
const { arg, cpuSeconds, rssKib, print, fail } = require('./common');
const { Client } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');

async function main() {
  const [host, port] = arg('--hub').split(':');
  const device = arg('--device');
  const key = arg('--key');
  const bytes = Number(arg('--mib', '256')) * 1024 * 1024;
  // HostName without the port (the SDK's HTTP base cannot take host:port); the agent dials it.
  const client = Client.fromConnectionString(`HostName=${host};DeviceId=${device};SharedAccessKey=${key}`, Mqtt);
  const agent = new https.Agent({ keepAlive: true });
  agent.defaultPort = Number(port || 443); // the Agent constructor forces 443: set it afterwards
  await client.setOptions({ http: { agent } });
  const chunk = Buffer.alloc(1024 * 1024, 'u');
  let left = bytes;
  const stream = new Readable({
    read() {
      if (left === 0) return this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
  const cpu0 = cpuSeconds();
  const t0 = process.hrtime.bigint();
  await client.uploadToBlob('bench/upload.bin', stream, bytes);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds() - cpu0;
  print({ ok: true, bytes, seconds, cpu_s: cpu, rss_kib: rssKib() });
  process.exit(0);
}

main().catch(fail);
