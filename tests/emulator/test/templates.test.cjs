// SPDX-License-Identifier: MIT
// Device templates, as IoT Central has them: a DTDL model tells the operator API which components,
// writable properties and commands a device has; writes outside it are refused with IoT Central's
// error shape, and nothing is half-created.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startEmulator, derive, provision, hubClient, waitSubscribed, uniqueId } = require('./helpers.cjs');

const THERMOSTAT = 'dtmi:com:example:Thermostat;1';
const CONTROLLER = 'dtmi:com:example:TemperatureController;1';
const MODEL = [
  {
    '@context': 'dtmi:dtdl:context;2', '@id': CONTROLLER, '@type': 'Interface', displayName: 'Temperature Controller',
    contents: [
      { '@type': 'Property', name: 'serialNumber', schema: 'string' },
      { '@type': 'Property', name: 'telemetryInterval', schema: 'integer', writable: true },
      { '@type': 'Property', name: 'mode', writable: true, schema: { '@type': 'Enum', valueSchema: 'string', enumValues: [{ name: 'eco', enumValue: 'eco' }, { name: 'boost', enumValue: 'boost' }] } },
      { '@type': 'Command', name: 'reboot' },
      { '@type': 'Component', name: 'thermostat1', schema: THERMOSTAT },
    ],
  },
  {
    '@context': 'dtmi:dtdl:context;2', '@id': THERMOSTAT, '@type': 'Interface',
    contents: [
      { '@type': 'Property', name: 'targetTemperature', schema: 'double', writable: true },
      { '@type': 'Property', name: 'maxTempSinceLastReboot', schema: 'double' },
      { '@type': 'Command', name: 'getMaxMinReport', request: { name: 'since', schema: 'dateTime' } },
      { '@type': 'Telemetry', name: 'temperature', schema: 'double' },
    ],
  },
];

let emu;
let stateDir;
const clients = [];
test.before(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'iotc-templates-'));
  emu = await startEmulator(['--retry-after', '0', '--state-dir', stateDir]);
  const r = await emu.api('PUT', `/api/deviceTemplates/${encodeURIComponent(CONTROLLER)}`, MODEL);
  assert.equal(r.status, 201, JSON.stringify(r.body));
});
test.after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await emu.stop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

function isError(r, status) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(typeof r.body.error.code, 'string');
  assert.equal(typeof r.body.error.message, 'string');
  assert.equal(typeof r.body.error.requestId, 'string');
}

/** A device of the template, provisioned with its model id (IoT Central associates it) and connected. */
async function device(prefix) {
  const id = uniqueId(prefix);
  const key = derive(emu.groupKey, id);
  const reg = await provision(emu, id, key, { kind: 'mqtt', payload: { modelId: CONTROLLER } });
  const client = await hubClient(emu, reg.assignedHub, id, key);
  clients.push(client);
  return { id, client };
}

test('templates are listed and read back as IoT Central shows them', async () => {
  const list = await emu.api('GET', '/api/deviceTemplates');
  assert.deepEqual(list.body.value.map((t) => t['@id']), [CONTROLLER]);
  const one = await emu.api('GET', `/api/deviceTemplates/${encodeURIComponent(CONTROLLER)}`);
  assert.deepEqual(one.body['@type'], ['ModelDefinition', 'DeviceModel']);
  assert.equal(one.body.displayName, 'Temperature Controller');
  assert.deepEqual(one.body.capabilityModel, MODEL);
  isError(await emu.api('GET', '/api/deviceTemplates/nope'), 404);
});

test('a root-level write naming a component targets the component', async () => {
  const { id, client } = await device('tmplcomp');
  const twin = await client.getTwin();
  const seen = [];
  twin.on('properties.desired', (d) => seen.push(d));
  await waitSubscribed(emu, id, '$iothub/twin/PATCH/properties/desired/#');
  const r = await emu.api('PATCH', `/api/devices/${id}/properties`, { thermostat1: { targetTemperature: 30 }, telemetryInterval: 5 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  for (let i = 0; i < 100 && !seen.some((d) => d.thermostat1); i++) await new Promise((res) => setTimeout(res, 20));
  const got = seen.find((d) => d.thermostat1);
  assert.deepEqual(got.thermostat1, { __t: 'c', targetTemperature: 30 });
  assert.equal(got.telemetryInterval, 5);
  // Pending on the component, not as a root property.
  assert.equal(r.body.$metadata.thermostat1, undefined);
  assert.equal(r.body.thermostat1.$metadata.targetTemperature.desiredValue, 30);
  const comp = await emu.api('GET', `/api/devices/${id}/components/thermostat1/properties`);
  assert.equal(comp.body.$metadata.targetTemperature.desiredValue, 30);
  // The component route writes it too.
  const c2 = await emu.api('PATCH', `/api/devices/${id}/components/thermostat1/properties`, { targetTemperature: 31 });
  assert.equal(c2.status, 200);
  assert.equal(c2.body.$metadata.targetTemperature.desiredValue, 31);
});

test('commands run at the root and through the component route', async () => {
  const { id, client } = await device('tmplcmd');
  client.onDeviceMethod('reboot', (req, res) => res.send(200, {}, () => {}));
  client.onDeviceMethod('thermostat1*getMaxMinReport', (req, res) => res.send(200, { maxTemp: 40 }, () => {}));
  await waitSubscribed(emu, id, '$iothub/methods/POST/#');
  assert.equal((await emu.api('POST', `/api/devices/${id}/commands/reboot`, {})).body.responseCode, 200);
  const c = await emu.api('POST', `/api/devices/${id}/components/thermostat1/commands/getMaxMinReport`, { request: '2026-01-01T00:00:00Z' });
  assert.deepEqual(c.body.response, { maxTemp: 40 });
});

test('writes and commands outside the template are refused, and nothing is sent', async () => {
  const { id } = await device('tmplbad');
  const before = (await emu.api('GET', `/emulator/devices/${id}/twin`)).body.desired.$version;
  isError(await emu.api('PATCH', `/api/devices/${id}/properties`, { nope: 1 }), 400);
  isError(await emu.api('PATCH', `/api/devices/${id}/properties`, { serialNumber: 'x' }), 400); // not writable
  isError(await emu.api('PATCH', `/api/devices/${id}/properties`, { telemetryInterval: 'fast' }), 400);
  isError(await emu.api('PATCH', `/api/devices/${id}/properties`, { telemetryInterval: 1.5 }), 400);
  isError(await emu.api('PATCH', `/api/devices/${id}/properties`, { mode: 'turbo' }), 400);
  isError(await emu.api('PATCH', `/api/devices/${id}/properties`, { telemetryInterval: 5, thermostat1: { maxTempSinceLastReboot: 1 } }), 400);
  isError(await emu.api('PATCH', `/api/devices/${id}/components/thermostat2/properties`, { targetTemperature: 1 }), 404);
  isError(await emu.api('PATCH', `/api/devices/${id}/components/thermostat1/properties`, { telemetryInterval: 1 }), 400);
  isError(await emu.api('POST', `/api/devices/${id}/commands/selfDestruct`, {}), 404);
  isError(await emu.api('POST', `/api/devices/${id}/commands/getMaxMinReport`, {}), 404); // only in the component
  isError(await emu.api('POST', `/api/devices/${id}/components/thermostat2/commands/reboot`, {}), 404);
  const after = (await emu.api('GET', `/emulator/devices/${id}/twin`)).body.desired.$version;
  assert.equal(after, before);
  assert.equal((await emu.api('PATCH', `/api/devices/${id}/properties`, { mode: 'eco' })).status, 200);
});

test('bad templates and devices naming missing templates are refused whole', async () => {
  for (const body of [
    { foo: 1 },
    { '@type': 'Interface', contents: [] }, // no @id
    { '@id': 'dtmi:x:y;1', '@type': 'Interface', contents: [], bogus: 1 },
    { '@id': 'dtmi:x:y;1', '@type': 'Interface', contents: [{ '@type': 'Component', name: 'c', schema: 'dtmi:missing;1' }] },
    { '@id': 'dtmi:x:y;1', '@type': 'Interface', contents: [{ '@type': 'Property' }] },
    { '@type': ['ModelDefinition', 'DeviceModel'], capabilityModel: MODEL[1], extra: true },
    [],
    'DTDL',
  ]) {
    const r = await emu.api('PUT', '/api/deviceTemplates/broken', body);
    isError(r, 400);
  }
  isError(await emu.api('GET', '/api/deviceTemplates/broken'), 404);
  const id = uniqueId('tmplmissing');
  isError(await emu.api('PUT', `/api/devices/${id}`, { template: 'dtmi:no:such;1' }), 404);
  isError(await emu.api('GET', `/api/devices/${id}`), 404);
  // IoT Central's envelope is accepted too, and a device may name its template.
  const env = await emu.api('PUT', '/api/deviceTemplates/thermostat', { '@type': ['ModelDefinition', 'DeviceModel'], displayName: 'Thermostat', capabilityModel: MODEL[1] });
  assert.equal(env.status, 201, JSON.stringify(env.body));
  const d = await emu.api('PUT', `/api/devices/${id}`, { template: 'thermostat' });
  assert.equal(d.body.template, 'thermostat');
  isError(await emu.api('PATCH', `/api/devices/${id}/properties`, { telemetryInterval: 1 }), 400);
  assert.equal((await emu.api('PATCH', `/api/devices/${id}/properties`, { targetTemperature: 20 })).status, 200);
  isError(await emu.api('DELETE', '/api/deviceTemplates/thermostat'), 409);
  assert.equal((await emu.api('DELETE', `/api/devices/${id}`)).status, 204);
  assert.equal((await emu.api('DELETE', '/api/deviceTemplates/thermostat')).status, 204);
});

test('templates survive a restart with --state-dir', async () => {
  const again = await startEmulator(['--retry-after', '0', '--state-dir', stateDir]).catch(() => null);
  // The first emulator holds the state dir's ports only when fixed; ephemeral ones can run side by side.
  assert.ok(again);
  try {
    const one = await again.api('GET', `/api/deviceTemplates/${encodeURIComponent(CONTROLLER)}`);
    assert.equal(one.status, 200);
  } finally {
    await again.stop();
  }
});
