// SPDX-License-Identifier: MIT
'use strict';
// Shared by the Node SDK benchmark programs: arguments, the payload every implementation sends,
// process CPU and memory, and the one JSON result line.
const fs = require('fs');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i > 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) fail(`missing argument ${name}`);
  return fallback;
}

const PAYLOAD_SIZE = 200;

// The same 200-byte JSON object as bench_payload() in common/bench_util.c.
function payload(seq) {
  const head = `{"temperature":21.5,"humidity":48.25,"seq":"${String(seq).padStart(8, '0')}","pad":"`;
  return head + 'x'.repeat(PAYLOAD_SIZE - 2 - head.length) + '"}';
}

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function rssKib() {
  return Math.round(process.memoryUsage().rss / 1024);
}

function readDevices(path, max) {
  const lines = fs.readFileSync(path, 'utf8').split('\n').filter((l) => l.trim());
  if (lines.length < max) fail(`device list has fewer than ${max} devices`);
  return lines.slice(0, max).map((l) => {
    const [hub, id, key] = l.trim().split(/\s+/);
    return { hub, id, key };
  });
}

function print(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function fail(message) {
  print({ ok: false, error: String(message && message.message ? message.message : message) });
  process.exit(1);
}

function message(Message, seq) {
  const m = new Message(payload(seq));
  m.contentType = 'application/json';
  m.contentEncoding = 'utf-8';
  return m;
}

module.exports = { arg, payload, cpuSeconds, rssKib, readDevices, print, fail, message, PAYLOAD_SIZE };
