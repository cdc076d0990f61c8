// SPDX-License-Identifier: MIT
// Device templates, as IoT Central keeps them: a DTDL model (one interface, or an array of interfaces
// with components and extends, the same JSON a device's model file holds), optionally in IoT Central's
// envelope {"@type": [...], "displayName", "capabilityModel": <interface>}. From it the operator API
// learns what a device has: writable properties and commands, at the root and per component.

const DTMI = /^dtmi:[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?(?::[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?)*(?:;[1-9][0-9]{0,8}(?:\.[1-9][0-9]{0,5})?)?$/;
const NAME = /^[A-Za-z](?:[A-Za-z0-9_]{0,62}[A-Za-z0-9])?$/;
const ENVELOPE_KEYS = new Set(['@id', '@type', '@context', 'displayName', 'description', 'capabilityModel', 'etag', 'types']);
const INTERFACE_KEYS = new Set(['@id', '@type', '@context', 'comment', 'contents', 'description', 'displayName', 'extends', 'schemas']);
const MAX_DEPTH = 16;
const MAX_CONTENTS = 100000;

export class TemplateError extends Error {}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const types = (v) => (Array.isArray(v) ? v : [v]);

function checkInterface(iface, where) {
  if (!isObject(iface)) throw new TemplateError(`${where} is not a DTDL interface object`);
  if (!types(iface['@type']).includes('Interface')) throw new TemplateError(`${where} has no "@type": "Interface"`);
  if (typeof iface['@id'] !== 'string' || !DTMI.test(iface['@id'])) throw new TemplateError(`${where} needs an "@id" that is a DTMI (dtmi:...;1)`);
  for (const k of Object.keys(iface)) {
    if (!INTERFACE_KEYS.has(k)) throw new TemplateError(`${where} has an unknown field "${k.slice(0, 64)}"`);
  }
  if (iface.contents !== undefined && !Array.isArray(iface.contents)) throw new TemplateError(`${where}: contents must be an array`);
}

/** What one interface (with what it extends) offers: { properties: Map name → {writable, schema}, commands: Set }. */
function capabilities(iface, byId, depth, seen) {
  if (depth > MAX_DEPTH) throw new TemplateError('the model nests components or extends too deeply');
  const out = { properties: new Map(), commands: new Set(), telemetry: new Set(), components: new Map() };
  const ext = iface.extends === undefined ? [] : types(iface.extends);
  for (const e of ext) {
    const base = resolve(e, byId, 'extends');
    if (seen.has(base['@id'])) throw new TemplateError(`${base['@id']} extends itself`);
    const b = capabilities(base, byId, depth + 1, new Set([...seen, base['@id']]));
    for (const [k, v] of b.properties) out.properties.set(k, v);
    for (const k of b.commands) out.commands.add(k);
    for (const k of b.telemetry) out.telemetry.add(k);
    for (const [k, v] of b.components) out.components.set(k, v);
  }
  for (const c of iface.contents || []) {
    if (!isObject(c)) throw new TemplateError(`${iface['@id']}: every content must be an object`);
    if (typeof c.name !== 'string' || !NAME.test(c.name)) throw new TemplateError(`${iface['@id']}: a content has no valid name`);
    const t = types(c['@type']);
    if (t.includes('Property')) out.properties.set(c.name, { writable: c.writable === true, schema: c.schema });
    else if (t.includes('Command')) out.commands.add(c.name);
    else if (t.includes('Telemetry')) out.telemetry.add(c.name);
    else if (t.includes('Component')) {
      if (depth > 0) throw new TemplateError(`${iface['@id']}: components may only be in the root interface`);
      const schema = resolve(c.schema, byId, `component ${c.name}`);
      const sub = capabilities(schema, byId, depth + 1, new Set([...seen, schema['@id']]));
      out.components.set(c.name, { properties: sub.properties, commands: sub.commands, telemetry: sub.telemetry });
    } else if (t.includes('Relationship')) {
      // IoT Central ignores relationships for device data.
    } else throw new TemplateError(`${iface['@id']}: content ${c.name} has an unknown @type`);
  }
  return out;
}

function resolve(ref, byId, what) {
  if (isObject(ref)) {
    checkInterface(ref, what);
    return ref;
  }
  if (typeof ref !== 'string' || !byId.has(ref)) throw new TemplateError(`${what} names ${typeof ref === 'string' ? ref.slice(0, 128) : 'no interface'}, which the model does not define`);
  return byId.get(ref);
}

/**
 * Parses a template body. Returns { id, displayName, model, root, components } or throws TemplateError.
 * `id` is the route's id; the envelope's or the root interface's @id, when present, must be the same.
 */
export function parseTemplate(id, body) {
  if (typeof id !== 'string' || id.length === 0 || id.length > 512) throw new TemplateError('a template id is 1 to 512 characters');
  let model = body;
  let displayName;
  if (isObject(body) && body.capabilityModel !== undefined) {
    for (const k of Object.keys(body)) {
      if (!ENVELOPE_KEYS.has(k)) throw new TemplateError(`unknown template field "${k.slice(0, 64)}"`);
    }
    if (body['@id'] !== undefined && body['@id'] !== id) throw new TemplateError(`"@id" ${String(body['@id']).slice(0, 128)} is not the template id in the path`);
    if (body.displayName !== undefined && typeof body.displayName !== 'string') throw new TemplateError('displayName must be a string');
    displayName = body.displayName;
    model = body.capabilityModel;
  }
  const list = Array.isArray(model) ? model : [model];
  if (list.length === 0 || list.length > 1000) throw new TemplateError('the model must be a DTDL interface or a non-empty array of them');
  const byId = new Map();
  list.forEach((iface, i) => {
    checkInterface(iface, Array.isArray(model) ? `interface ${i}` : 'the template');
    if (byId.has(iface['@id'])) throw new TemplateError(`${iface['@id']} is defined twice`);
    byId.set(iface['@id'], iface);
  });
  // The root is the interface no other one uses as a component schema or extends.
  const used = new Set();
  for (const iface of list) {
    for (const e of iface.extends === undefined ? [] : types(iface.extends)) if (typeof e === 'string') used.add(e);
    for (const c of iface.contents || []) if (isObject(c) && types(c['@type']).includes('Component') && typeof c.schema === 'string') used.add(c.schema);
  }
  const roots = list.filter((i) => !used.has(i['@id']));
  if (roots.length !== 1) throw new TemplateError('the model must have exactly one root interface (one that no other uses)');
  const root = roots[0];
  if (JSON.stringify(model).length > 4 * 1024 * 1024 || countContents(list) > MAX_CONTENTS) throw new TemplateError('the model is too large');
  const caps = capabilities(root, byId, 0, new Set([root['@id']]));
  return {
    id, displayName: displayName ?? (typeof root.displayName === 'string' ? root.displayName : id), model,
    modelId: root['@id'], root: { properties: caps.properties, commands: caps.commands, telemetry: caps.telemetry }, components: caps.components,
  };
}

function countContents(list) {
  return list.reduce((n, i) => n + (Array.isArray(i.contents) ? i.contents.length : 0), 0);
}

/** Why a property write is refused by the template, or null. `part` is the root or a component. */
export function propertyRefusal(part, name, value, where) {
  const p = part.properties.get(name);
  if (!p) return `${where} has no property ${name}`;
  if (!p.writable) return `property ${name} of ${where} is not writable`;
  const bad = schemaRefusal(p.schema, value);
  return bad ? `property ${name} of ${where}: ${bad}` : null;
}

/** A value against a primitive or enum DTDL schema; complex schemas are accepted as any JSON. */
function schemaRefusal(schema, value) {
  const numeric = { double: 'number', float: 'number', integer: 'integer', long: 'integer' };
  if (typeof schema === 'string') {
    if (numeric[schema] === 'number' && typeof value !== 'number') return `expects a number (${schema})`;
    if (numeric[schema] === 'integer' && !Number.isInteger(value)) return `expects a whole number (${schema})`;
    if (schema === 'boolean' && typeof value !== 'boolean') return 'expects true or false';
    if (['string', 'date', 'dateTime', 'time', 'duration'].includes(schema) && typeof value !== 'string') return `expects a string (${schema})`;
    return null;
  }
  if (isObject(schema) && types(schema['@type']).includes('Enum') && Array.isArray(schema.enumValues)) {
    const allowed = schema.enumValues.map((e) => e && e.enumValue);
    if (!allowed.includes(value)) return `expects one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return null;
}

/** The template's JSON view, as GET /api/deviceTemplates/{id} answers it. */
export function templateView(t) {
  return { '@id': t.id, '@type': ['ModelDefinition', 'DeviceModel'], displayName: t.displayName, capabilityModel: t.model };
}
