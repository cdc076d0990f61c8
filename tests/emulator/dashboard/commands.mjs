// SPDX-License-Identifier: MIT
// Commands: a form per command of the template (or a free one without a template), the response with
// its status and payload, queued (offline) commands, and long-running ones: 202 at once, then the
// completion the device reports as a property named like the command.
import { h, fill, text } from './dom.mjs';
import { call, enc, errorText } from './api.mjs';
import { label, control, jsonControl } from './model.mjs';

export class Commands {
  constructor(body, deviceId, parts) {
    this.deviceId = deviceId;
    this.properties = {};
    this.waiting = new Map(); // key -> { output, before }
    const forms = parts
      ? parts.flatMap((p) => p.commands.map((c) => this.commandForm(p.component, c)))
      : [this.freeForm()];
    fill(body, forms.length ? forms : h('p', { class: 'muted' }, 'The template has no commands.'));
  }

  commandForm(component, cmd) {
    const key = component ? `${component}/${cmd.name}` : cmd.name;
    const id = `cmd-${key.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    const req = cmd.request && typeof cmd.request === 'object' ? cmd.request : null;
    const input = req ? control(req.schema, `${id}-request`, h) : null;
    const queued = h('input', { type: 'checkbox', id: `${id}-queued` });
    const output = h('output', { class: 'result', for: input ? `${id}-request` : null, dataset: { command: key }, 'aria-live': 'polite' });
    const completion = h('div', { class: 'completion', dataset: { completion: key } });
    return h('form', { class: 'command', novalidate: true, dataset: { commandForm: key }, onsubmit: (e) => {
      e.preventDefault();
      let request;
      try {
        request = input ? input.read() : undefined;
      } catch (err) {
        return this.show(output, { error: `${req.name}: ${err.message}` });
      }
      this.run(component, cmd.name, key, request, queued.checked, output, completion);
    } },
    h('h3', {}, label(cmd), component ? h('span', { class: 'muted' }, ` (${component})`) : null),
    cmd.description ? h('p', { class: 'muted' }, typeof cmd.description === 'string' ? cmd.description : label({ displayName: cmd.description })) : null,
    input ? h('div', { class: 'field' }, h('label', { for: `${id}-request` }, label(req) || req.name, h('span', { class: 'muted' }, ` (${typeof req.schema === 'string' ? req.schema : 'JSON'})`)), input.element) : null,
    h('div', { class: 'field check' }, queued, h('label', { for: `${id}-queued` }, 'Queue if the device is offline')),
    h('button', { type: 'submit', class: 'primary' }, 'Run'),
    output, completion);
  }

  freeForm() {
    const name = h('input', { id: 'cmd-name', required: true, autocomplete: 'off' });
    const component = h('input', { id: 'cmd-component', autocomplete: 'off' });
    const payload = jsonControl('cmd-payload', h, 'request payload (JSON), empty for none');
    const queued = h('input', { type: 'checkbox', id: 'cmd-queued' });
    const output = h('output', { class: 'result', dataset: { command: '*' }, 'aria-live': 'polite' });
    const completion = h('div', { class: 'completion' });
    return h('form', { class: 'command grid-form', onsubmit: (e) => {
      e.preventDefault();
      let request;
      try {
        request = payload.read();
      } catch (err) {
        return this.show(output, { error: err.message });
      }
      const comp = component.value.trim() || null;
      this.run(comp, name.value.trim(), comp ? `${comp}/${name.value.trim()}` : name.value.trim(), request, queued.checked, output, completion);
    } },
    h('p', { class: 'span muted' }, 'This device has no template: any command name, any JSON payload.'),
    h('label', { for: 'cmd-name' }, 'Command'), name,
    h('label', { for: 'cmd-component' }, 'Component (optional)'), component,
    h('label', { for: 'cmd-payload' }, 'Payload'), payload.element,
    h('div', { class: 'span field check' }, queued, h('label', { for: 'cmd-queued' }, 'Queue if the device is offline')),
    h('button', { type: 'submit', class: 'span primary' }, 'Run'),
    output, completion);
  }

  async run(component, name, key, request, queued, output, completion) {
    const path = component ? `/api/devices/${enc(this.deviceId)}/components/${enc(component)}/commands/${enc(name)}` : `/api/devices/${enc(this.deviceId)}/commands/${enc(name)}`;
    const body = { responseTimeout: 30 };
    if (request !== undefined) body.request = request;
    if (queued) body.queued = true;
    this.show(output, { running: true });
    completion.replaceChildren();
    this.waiting.delete(key);
    const r = await call('POST', path, body);
    if (!r.ok) return this.show(output, { error: errorText(r) });
    this.show(output, r.data);
    if (r.data.responseCode === 202) {
      const before = JSON.stringify(this.reported(component, name));
      this.waiting.set(key, { component, name, completion, before });
      fill(completion, h('span', { class: 'state pending', dataset: { state: 'pending' } }, `waiting for the device to report property ${name}…`));
    }
  }

  show(output, r) {
    output.dataset.status = r.running ? 'running' : r.error ? 'error' : r.queued ? 'queued' : String(r.responseCode);
    if (r.running) return fill(output, 'running…');
    if (r.error) return fill(output, h('span', { class: 'bad' }, r.error));
    if (r.queued) return fill(output, h('span', { class: 'badge' }, 'queued'), ' delivered when the device next connects (a cloud-to-device message)');
    const ok = r.responseCode >= 200 && r.responseCode < 300;
    fill(output, h('span', { class: `badge ${ok ? 'ok' : 'bad'}` }, String(r.responseCode)),
      r.responseCode === 202 ? ' accepted: the device runs it in the background ' : ' ',
      h('code', { class: 'payload' }, r.response === undefined ? '(no payload)' : text(r.response)));
  }

  reported(component, name) {
    const p = component ? (this.properties[component] || {}) : this.properties;
    return p[name];
  }

  /** New properties: a long-running command is complete when its property changes. */
  update(properties) {
    this.properties = properties || {};
    for (const [key, w] of this.waiting) {
      const now = this.reported(w.component, w.name);
      if (now === undefined || JSON.stringify(now) === w.before) continue;
      this.waiting.delete(key);
      fill(w.completion, h('span', { class: 'state accepted', dataset: { state: 'completed' } }, 'completed: '), h('code', { class: 'payload' }, text(now)));
    }
  }
}
