// SPDX-License-Identifier: MIT
// What the dashboard needs from a device template's DTDL model: per part (the root, then each
// component) its telemetry, properties and commands, and how to edit a value of a schema.

const types = (v) => (Array.isArray(v) ? v : [v]);
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A DTDL display name (a string or a language map) as text. */
export function label(item) {
  const d = item && item.displayName;
  if (typeof d === 'string') return d;
  if (isObject(d)) return d.en || Object.values(d)[0] || item.name;
  return item ? item.name : '';
}

/**
 * The parts of a model (a template's capabilityModel): [{ component: null|name, telemetry,
 * properties, commands }], each a list of the DTDL contents (extends included).
 */
export function parts(model) {
  const list = Array.isArray(model) ? model : [model];
  const byId = new Map(list.filter(isObject).map((i) => [i['@id'], i]));
  const used = new Set();
  for (const i of list) {
    for (const e of i.extends === undefined ? [] : types(i.extends)) if (typeof e === 'string') used.add(e);
    for (const c of i.contents || []) if (types(c['@type']).includes('Component') && typeof c.schema === 'string') used.add(c.schema);
  }
  const root = list.find((i) => isObject(i) && !used.has(i['@id'])) || list[0];
  const resolve = (ref) => (isObject(ref) ? ref : byId.get(ref));
  const collect = (iface, depth = 0) => {
    const out = { telemetry: [], properties: [], commands: [], components: [] };
    if (!iface || depth > 16) return out;
    for (const e of iface.extends === undefined ? [] : types(iface.extends)) {
      const b = collect(resolve(e), depth + 1);
      for (const k of Object.keys(out)) out[k].push(...b[k]);
    }
    for (const c of iface.contents || []) {
      const t = types(c['@type']);
      if (t.includes('Telemetry')) out.telemetry.push(c);
      else if (t.includes('Property')) out.properties.push(c);
      else if (t.includes('Command')) out.commands.push(c);
      else if (t.includes('Component') && depth === 0) out.components.push(c);
    }
    return out;
  };
  const top = collect(root);
  const result = [{ component: null, telemetry: top.telemetry, properties: top.properties, commands: top.commands }];
  for (const c of top.components) {
    const sub = collect(resolve(c.schema), 1);
    result.push({ component: c.name, label: label(c), telemetry: sub.telemetry, properties: sub.properties, commands: sub.commands });
  }
  return result;
}

const NUMBER = new Set(['double', 'float']);
const INTEGER = new Set(['integer', 'long']);
const TEXT = new Set(['string', 'date', 'dateTime', 'time', 'duration']);

/** A form control for a value of the schema: { element, read() } where read() throws Error on bad input. */
export function control(schema, id, h) {
  if (typeof schema === 'string' && (NUMBER.has(schema) || INTEGER.has(schema))) {
    const el = h('input', { id, type: 'number', step: INTEGER.has(schema) ? '1' : 'any', required: true, inputmode: 'decimal' });
    return {
      element: el,
      read() {
        const n = Number(el.value);
        if (el.value.trim() === '' || !Number.isFinite(n)) throw new Error(`enter a number (${schema})`);
        if (INTEGER.has(schema) && !Number.isInteger(n)) throw new Error(`enter a whole number (${schema})`);
        return n;
      },
    };
  }
  if (schema === 'boolean') {
    const el = h('select', { id }, h('option', { value: 'true' }, 'true'), h('option', { value: 'false' }, 'false'));
    return { element: el, read: () => el.value === 'true' };
  }
  if (typeof schema === 'string' && TEXT.has(schema)) {
    const el = h('input', { id, type: 'text', autocomplete: 'off' });
    return { element: el, read: () => el.value };
  }
  if (isObject(schema) && types(schema['@type']).includes('Enum') && Array.isArray(schema.enumValues)) {
    const values = schema.enumValues.map((e) => e.enumValue);
    const el = h('select', { id }, schema.enumValues.map((e, i) => h('option', { value: String(i) }, `${label(e)} (${JSON.stringify(e.enumValue)})`)));
    return { element: el, read: () => values[Number(el.value)] };
  }
  return jsonControl(id, h);
}

/** A JSON text area: for complex schemas and for devices without a template. */
export function jsonControl(id, h, placeholder = 'JSON, for example {"a": 1}') {
  const el = h('textarea', { id, rows: 3, spellcheck: 'false', placeholder });
  return {
    element: el,
    read() {
      if (el.value.trim() === '') return undefined;
      try {
        return JSON.parse(el.value);
      } catch (err) {
        throw new Error(`not valid JSON: ${err.message}`);
      }
    },
  };
}
