// SPDX-License-Identifier: MIT
// A device's page: its connection (and the history of it), telemetry, properties, commands, faults
// and wire log, all kept current by the device's event stream (no polling).
import { h, fill, dateTime, time, section } from './dom.mjs';
import { call, enc, errorText } from './api.mjs';
import { parts as modelParts } from './model.mjs';
import { Telemetry, telemetryInfo } from './telemetry.mjs';
import { Properties } from './properties.mjs';
import { Commands } from './commands.mjs';
import { Faults } from './faults.mjs';
import { Wire } from './wire.mjs';

const HISTORY = 50;

export function devicePage(main, id) {
  const title = h('h1', {}, id);
  const summary = h('dl', { class: 'summary' });
  const live = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const [connSection, connBody] = section('Connection', 'connection');
  const history = h('ol', { class: 'history', reversed: true });
  fill(connBody, summary, h('h3', {}, 'History'), history);
  const [telSection, telBody] = section('Telemetry', 'telemetry');
  const [propSection, propBody] = section('Properties', 'properties');
  const [cmdSection, cmdBody] = section('Commands', 'commands');
  const [faultSection, faultBody] = section('Faults and tests', 'faults');
  const [rawSection, rawBody] = section('Messages', 'messages');
  const [wireSection, wireBody] = section('Wire log', 'wire');
  main.append(
    h('p', {}, h('a', { href: '#/' }, '← All devices')),
    title, live,
    h('div', { class: 'layout' },
      h('div', { class: 'wide' }, telSection),
      connSection, faultSection, propSection, cmdSection,
      h('div', { class: 'wide' }, rawSection),
      h('div', { class: 'wide' }, wireSection)));

  let telemetry = null;
  let properties = null;
  let commands = null;
  let faults = null;
  let wire = null;
  let lastConnected = null;
  let templateId;
  let closed = false;
  const pending = [];

  const say = (msg, bad = false) => {
    live.textContent = msg;
    live.classList.toggle('error', bad);
  };

  /** Builds the sections for the device's template (once per template). */
  async function setup(device) {
    if (templateId === device.template && telemetry) return;
    templateId = device.template;
    let parts = null;
    if (device.template) {
      const r = await call('GET', `/api/deviceTemplates/${enc(device.template)}`);
      if (r.ok) parts = modelParts(r.data.capabilityModel);
      else say(`template ${device.template}: ${errorText(r)}`, true);
    }
    if (closed) return;
    if (telemetry) telemetry.close();
    telemetry = new Telemetry(telBody, rawBody, telemetryInfo(parts || []));
    properties = new Properties(propBody, id, parts);
    commands = new Commands(cmdBody, id, parts);
    faults = faults || new Faults(faultBody, id);
    wire = wire || new Wire(wireBody);
  }

  function showState({ device, properties: props, deleted }) {
    if (deleted || !device) {
      say(`device ${id} was deleted`, true);
      return;
    }
    title.textContent = device.displayName || device.id;
    const conn = device.connected ? 'connected' : 'disconnected';
    fill(summary,
      h('dt', {}, 'State'), h('dd', {}, h('span', { class: `badge ${device.connected ? 'ok' : 'off'}`, id: 'connection-state', dataset: { connection: conn } }, conn)),
      h('dt', {}, 'Hub'), h('dd', {}, device.hub || '—'),
      h('dt', {}, 'Since'), h('dd', {}, dateTime(device.since)),
      h('dt', {}, 'Last message'), h('dd', { id: 'last-message' }, dateTime(device.lastMessage)),
      h('dt', {}, 'Provisioning'), h('dd', {}, device.provisioned ? 'provisioned' : (device.registration || 'not provisioned')),
      h('dt', {}, 'Template'), h('dd', {}, device.template || '(none)'),
      h('dt', {}, 'Queued commands'), h('dd', { id: 'c2d-queued', dataset: { count: String(device.c2dQueued) } }, String(device.c2dQueued)),
      h('dt', {}, 'Device id'), h('dd', {}, h('code', {}, device.id)));
    if (lastConnected !== device.connected) {
      const at = device.connected && device.since ? device.since : new Date().toISOString();
      const what = device.connected ? `connected to ${device.hub}` : (lastConnected === null ? 'not connected' : 'disconnected');
      history.prepend(h('li', { dataset: { event: device.connected ? 'connected' : 'disconnected' } }, `${time(at)}: ${what}`));
      while (history.children.length > HISTORY) history.lastChild.remove();
      lastConnected = device.connected;
    }
    properties.update(props);
    commands.update(props);
    faults.update(device);
  }

  // Events that arrive while the sections are being built wait for them.
  const handle = (fn) => (e) => {
    const data = JSON.parse(e.data);
    if (telemetry && pending.length === 0) fn(data);
    else pending.push(() => fn(data));
  };
  const flush = () => {
    while (pending.length && telemetry) pending.shift()();
  };

  let stream = null;
  function connect() {
    stream = new EventSource(`/emulator/events?deviceId=${enc(id)}`);
    stream.addEventListener('snapshot', async (e) => {
      const snap = JSON.parse(e.data);
      if (snap.deleted || !snap.device) return say(`device ${id} was deleted`, true);
      pending.length = 0;
      await setup(snap.device);
      if (closed) return;
      telemetry.reset(snap.messages);
      wire.reset(snap.wire);
      showState(snap);
      say('');
      flush();
    });
    stream.addEventListener('state', handle((st) => {
      // Another template means other forms: start again from a snapshot.
      if (st.device && st.device.template !== templateId) return reconnect();
      showState(st);
    }));
    stream.addEventListener('message', handle((m) => {
      telemetry.add(m);
      const last = document.getElementById('last-message');
      if (last) last.textContent = dateTime(m.time);
    }));
    stream.addEventListener('wire', handle((w) => wire.add(w)));
    stream.onerror = () => {
      if (stream.readyState === EventSource.CLOSED) say(`device ${id} is unknown to the emulator`, true);
      else say('live updates interrupted: reconnecting…', true);
    };
  }
  function reconnect() {
    stream.close();
    pending.length = 0;
    connect();
  }
  connect();

  return () => {
    closed = true;
    stream.close();
    if (telemetry) telemetry.close();
  };
}
