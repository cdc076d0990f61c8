// SPDX-License-Identifier: MIT
'use strict';
// Node SDK: process start to first telemetry acknowledged: DPS over MQTT, hub connect, one QoS 1
// message. Prints the wall-clock time of the acknowledgement; the harness subtracts the time it
// started the process. The CA comes from NODE_EXTRA_CA_CERTS (the DPS transport has no other way).
const { performance } = require('perf_hooks');
const { arg, print, fail, message } = require('./common');
const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { Mqtt: ProvisioningMqtt } = require('azure-iot-provisioning-device-mqtt');
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');

async function main() {
  const dps = arg('--dps');
  const scope = arg('--scope');
  const device = arg('--device');
  const key = arg('--key');
  const modelId = arg('--model', 'dtmi:com:example:Thermostat;1');

  const security = new SymmetricKeySecurityClient(device, key);
  const provisioning = ProvisioningDeviceClient.create(dps, scope, new ProvisioningMqtt(), security);
  provisioning.setProvisioningPayload({ modelId });
  const result = await provisioning.register();

  const cs = `HostName=${result.assignedHub};DeviceId=${result.deviceId};SharedAccessKey=${key}`;
  const client = Client.fromConnectionString(cs, Mqtt);
  client.on('error', fail);
  await client.setOptions({ modelId });
  await client.open();
  await client.sendEvent(message(Message, 0));
  print({ ok: true, acked_unix_ms: performance.timeOrigin + performance.now() });
  await client.close();
  process.exit(0);
}

main().catch(fail);
