// SPDX-License-Identifier: MIT
// The emulator as a person runs it: --help explains every option, and stderr carries one line per
// connection, disconnect and refusal (nothing with --quiet, every packet with --verbose).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { startEmulator, derive, provision, hubClient, rawHub, uniqueId } = require('./helpers.cjs');

const BIN = path.join(__dirname, '..', 'bin', 'iotc-emulator.mjs');

test('--help explains every option the emulator takes', () => {
  const r = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  const source = fs.readFileSync(BIN, 'utf8');
  const options = new Set(source.match(/'--[a-z-]+'/g).map((s) => s.slice(1, -1)));
  assert.ok(options.size >= 12, [...options].join(' '));
  for (const o of options) {
    const line = r.stdout.split('\n').find((l) => new RegExp(`^\\s+(-\\w, )?${o}\\b`).test(l));
    assert.ok(line, `${o} is not explained`);
    assert.match(line.slice(line.indexOf(o) + o.length), /[a-z]{3,}.*[a-z]{3,}/, `${o} has no sentence`);
  }
  for (const mode of ['ephemeral', 'fixed', 'standard']) assert.match(r.stdout, new RegExp(`\\b${mode}\\b`));
});

test('an unknown option or mode is refused with the usage', () => {
  for (const args of [['--bogus'], ['--ports', 'cloud'], ['--address-block', '127.1.2']]) {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /usage: iotc-emulator/);
  }
});

async function connectAndRefuse(emu) {
  const id = uniqueId('log');
  const key = derive(emu.groupKey, id);
  const reg = await provision(emu, id, key, { kind: 'mqtt' });
  const client = await hubClient(emu, reg.assignedHub, id, key);
  await client.close();
  await assert.rejects(rawHub(emu, { hub: reg.assignedHub, id, key: derive(emu.groupKey, 'someone-else') }));
  // Lines are written as events happen; give the last one a moment to arrive.
  for (let i = 0; i < 50 && !/hub\d: .* refused/.test(emu.stderr()); i++) await new Promise((r) => setTimeout(r, 20));
  return id;
}

test('stderr has a line per connection, disconnect and refusal, and never a key', async () => {
  const emu = await startEmulator(['--retry-after', '0']);
  try {
    const id = await connectAndRefuse(emu);
    const lines = emu.stderr().split('\n');
    assert.ok(lines.some((l) => l.includes(`dps-mqtt: ${id} connected`)), emu.stderr());
    assert.ok(lines.some((l) => /^iotc-emulator: hub\d: /.test(l) && l.includes(`${id} connected (sas)`)), emu.stderr());
    assert.ok(lines.some((l) => l.includes(`${id} disconnected`)), emu.stderr());
    assert.ok(lines.some((l) => l.includes(`${id} refused: CONNACK 5`)), emu.stderr());
    assert.doesNotMatch(emu.stderr(), /sig=|SharedAccessKey|PUBLISH/);
  } finally {
    await emu.stop();
  }
});

test('--quiet logs no connections; --verbose logs packets too', async () => {
  const quiet = await startEmulator(['--retry-after', '0', '--quiet']);
  try {
    await connectAndRefuse(quiet);
    assert.equal(quiet.stderr(), '');
  } finally {
    await quiet.stop();
  }
  const verbose = await startEmulator(['--retry-after', '0', '--verbose']);
  try {
    await connectAndRefuse(verbose);
    assert.match(verbose.stderr(), /in PUBLISH \$dps\/registrations\/PUT/);
    assert.match(verbose.stderr(), /in SUBSCRIBE/);
    assert.doesNotMatch(verbose.stderr(), /sig=[A-Za-z0-9%]{8,}/);
  } finally {
    await verbose.stop();
  }
});
