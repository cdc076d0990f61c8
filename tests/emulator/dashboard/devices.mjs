// SPDX-License-Identifier: MIT
// The device list (live, from the event stream), creating and deleting devices, and their credentials.
import { h, fill, dateTime, section } from './dom.mjs';
import { call, must, enc, errorText } from './api.mjs';

export function devicesPage(main) {
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const credentials = h('div', { id: 'credentials' });
  const [listSection, listBody] = section('Devices', 'devices');
  const rows = h('tbody');
  const table = h('div', { class: 'scroll' }, h('table', { class: 'devices' },
    h('caption', { class: 'sr-only' }, 'Devices, with their connection state'),
    h('thead', {}, h('tr', {}, ['Device', 'Template', 'Provisioning', 'Connection', 'Since', 'Last message', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    rows));
  const count = h('p', { class: 'muted' });
  fill(listBody, count, table);

  const [createSection, createBody] = section('Create a device', 'create');
  const templates = h('select', { id: 'new-template' }, h('option', { value: '' }, '(none)'));
  const form = h('form', { class: 'grid-form', onsubmit: (e) => { e.preventDefault(); create(); } },
    h('label', { for: 'new-id' }, 'Device id'),
    h('input', { id: 'new-id', required: true, maxlength: 128, autocomplete: 'off' }),
    h('label', { for: 'new-name' }, 'Display name'),
    h('input', { id: 'new-name', autocomplete: 'off' }),
    h('label', { for: 'new-template' }, 'Device template'),
    templates,
    h('fieldset', { class: 'span' }, h('legend', {}, 'Credentials'),
      h('label', {}, h('input', { type: 'radio', name: 'auth', value: 'group', checked: true }), ' key derived from the enrollment group (SAS-IoT-Devices)'),
      h('label', {}, h('input', { type: 'radio', name: 'auth', value: 'individual' }), ' individual key (an individual enrollment)')),
    h('button', { type: 'submit', class: 'span primary' }, 'Create device'));
  fill(createBody, form);

  main.append(h('h1', {}, 'Devices'), status, listSection, credentials, createSection);

  call('GET', '/api/deviceTemplates').then((r) => {
    if (!r.ok) return;
    for (const t of r.data.value) templates.append(h('option', { value: t['@id'] }, `${t.displayName} (${t['@id']})`));
  });

  const say = (msg, bad = false) => {
    status.textContent = msg;
    status.classList.toggle('error', bad);
  };

  async function create() {
    const id = document.getElementById('new-id').value.trim();
    const body = { enabled: true };
    const name = document.getElementById('new-name').value.trim();
    if (name) body.displayName = name;
    if (templates.value) body.template = templates.value;
    const individual = form.querySelector('input[name=auth]:checked').value === 'individual';
    try {
      await must('PUT', `/api/devices/${enc(id)}`, body);
      if (individual) await must('PUT', `/api/devices/${enc(id)}/attestation`, { type: 'symmetricKey' });
      say(`device ${id} created`);
      form.reset();
      showCredentials(credentials, id);
    } catch (err) {
      say(`could not create ${id}: ${err.message}`, true);
    }
  }

  async function remove(id) {
    if (!window.confirm(`Delete device ${id}? It is disconnected and its data is lost.`)) return;
    const r = await call('DELETE', `/api/devices/${enc(id)}`);
    say(r.ok ? `device ${id} deleted` : `could not delete ${id}: ${errorText(r)}`, !r.ok);
    if (r.ok && credentials.dataset.device === id) credentials.replaceChildren();
  }

  function render({ value, total }) {
    count.textContent = total === 0 ? 'No devices yet: create one below, or let a device provision through the enrollment group.'
      : `${total} device${total === 1 ? '' : 's'}${value.length < total ? `, the first ${value.length} shown` : ''}`;
    fill(rows, value.map((d) => h('tr', { dataset: { device: d.id } },
      h('th', { scope: 'row' }, h('a', { href: `#/devices/${enc(d.id)}` }, d.displayName || d.id), d.displayName && d.displayName !== d.id ? h('div', { class: 'muted' }, d.id) : null),
      h('td', {}, d.template || '—'),
      h('td', {}, d.provisioned ? 'provisioned' : (d.registration || 'not provisioned'), d.enabled ? null : h('div', { class: 'bad' }, 'disabled')),
      h('td', {}, h('span', { class: `badge ${d.connected ? 'ok' : 'off'}`, dataset: { connection: d.connected ? 'connected' : 'disconnected' } }, d.connected ? 'connected' : 'disconnected'), d.hub ? h('div', { class: 'muted' }, d.hub) : null),
      h('td', {}, dateTime(d.since)),
      h('td', {}, dateTime(d.lastMessage)),
      h('td', { class: 'actions' },
        h('button', { type: 'button', onclick: () => showCredentials(credentials, d.id) }, 'Credentials'),
        h('button', { type: 'button', class: 'danger', onclick: () => remove(d.id) }, 'Delete')))));
  }

  const stream = new EventSource('/emulator/events');
  stream.addEventListener('devices', (e) => render(JSON.parse(e.data)));
  stream.onerror = () => say('live updates interrupted: reconnecting…', true);
  stream.onopen = () => { if (status.classList.contains('error')) say(''); };
  return () => stream.close();
}

/** The values a device needs to connect, as environment variables of the example programs. */
async function showCredentials(panel, id) {
  panel.dataset.device = id;
  const [info, att] = await Promise.all([call('GET', '/emulator/info'), call('GET', `/api/devices/${enc(id)}/attestation`)]);
  if (!info.ok || !att.ok) {
    fill(panel, h('p', { class: 'error' }, `no credentials for ${id}: ${errorText(att.ok ? info : att)}`));
    return;
  }
  const [el, body] = section(`Credentials of ${id}`, 'creds');
  const rows = [['ID scope', info.data.idScope], ['Device id', id], ['DPS endpoint (MQTT)', info.data.dps.mqtt], ['DPS endpoint (HTTPS)', info.data.dps.https], ['CA file', info.data.caFile]];
  let env = `IOTC_ID_SCOPE=${info.data.idScope} IOTC_DEVICE_ID=${id} IOTC_DPS_ENDPOINT=${info.data.dps.mqtt} IOTC_CA_FILE=${info.data.caFile}`;
  if (att.data.type === 'symmetricKey') {
    rows.push(['Primary key', att.data.symmetricKey.primaryKey], ['Secondary key', att.data.symmetricKey.secondaryKey]);
    env += ` IOTC_DEVICE_KEY=${att.data.symmetricKey.primaryKey}`;
  } else rows.push(['Attestation', att.data.type]);
  fill(body,
    h('dl', { class: 'pairs' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, h('code', {}, v))])),
    h('p', {}, 'For examples/environmental_sensor:'),
    h('pre', { class: 'env' }, env),
    h('button', { type: 'button', onclick: () => panel.replaceChildren() }, 'Hide credentials'));
  fill(panel, el);
  el.scrollIntoView({ block: 'nearest' });
}
