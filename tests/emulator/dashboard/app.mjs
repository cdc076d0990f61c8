// SPDX-License-Identifier: MIT
// The dashboard's entry: a hash router between the device list (#/) and a device (#/devices/ID).
import { devicesPage } from './devices.mjs';
import { devicePage } from './device.mjs';
import { call } from './api.mjs';

const main = document.getElementById('main');
let leave = null;

function route() {
  if (leave) leave();
  leave = null;
  main.replaceChildren();
  const m = /^#\/devices\/(.+)$/.exec(location.hash);
  let id = null;
  if (m) {
    try {
      id = decodeURIComponent(m[1]);
    } catch {
      id = null;
    }
  }
  leave = id !== null ? devicePage(main, id) : devicesPage(main);
  document.title = id !== null ? `${id} · iotc emulator` : 'Devices · iotc emulator';
}

window.addEventListener('hashchange', route);
route();

call('GET', '/emulator/info').then((r) => {
  if (r.ok) document.getElementById('scope').textContent = `ID scope ${r.data.idScope} · DPS ${r.data.dps.mqtt}`;
});
