// SPDX-License-Identifier: MIT
// Devices, enrollment groups and twins: the state that IoT Central's DPS, hubs and REST API share.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseTemplate } from './templates.mjs';
import { Ring } from './ring.mjs';
import { deriveKey, randomKey } from './sas.mjs';
import { toCert } from './x509.mjs';

export const DEFAULT_GROUP = 'SAS-IoT-Devices';
export const DEFAULT_X509_GROUP = 'X509-IoT-Devices';

const TWIN_SECTION_LIMIT = 32 * 1024;

export class Device {
  constructor(id, retention) {
    this.id = id;
    this.displayName = id;
    this.template = null;
    this.enabled = true;
    this.createdAt = new Date().toISOString();
    this.attestation = null; // individual enrollment; null = the device's group
    this.group = null; // enrollment group it provisioned through
    this.provisioned = false;
    this.hub = null; // hub index
    this.refusedHubs = []; // hubs the device was failed over from
    this.hubAuth = null; // {kind:'sas', keys:[...]} | {kind:'x509', group|thumbprints}
    this.registration = null; // last DPS registrationState
    this.twin = { desired: {}, desiredVersion: 1, reported: {}, reportedVersion: 1, meta: {} };
    this.initRuntime(retention);
  }

  initRuntime(retention) {
    this.messages = new Ring(retention.messages, retention.messageBytes);
    this.messages.onEvict = null;
    this.telemetry = new Map();
    this.parsedSeq = 0;
    this.commands = new Ring(retention.commands);
    this.c2d = [];
    this.conn = null;
    this.waiters = new Set();
  }

  toJSON() {
    return {
      id: this.id, displayName: this.displayName, template: this.template, enabled: this.enabled,
      createdAt: this.createdAt, attestation: this.attestation, group: this.group, provisioned: this.provisioned,
      hub: this.hub, refusedHubs: this.refusedHubs, hubAuth: this.hubAuth, registration: this.registration, twin: this.twin,
    };
  }
}

export class Registry {
  constructor({ retention, stateDir, idScope, groupKey, deviceCa }) {
    this.retention = retention;
    this.stateDir = stateDir;
    this.devices = new Map();
    this.groups = new Map();
    this.templates = new Map();
    this.idScope = idScope;
    this.hubCounter = 0;
    this.saveTimer = null;
    let loaded = false;
    if (stateDir) loaded = this.load();
    if (!this.idScope) this.idScope = '0ne' + crypto.randomBytes(4).toString('hex').toUpperCase();
    if (!this.groups.has(DEFAULT_GROUP)) {
      this.groups.set(DEFAULT_GROUP, {
        id: DEFAULT_GROUP, displayName: 'SAS-IoT-Devices', type: 'iot', enabled: true,
        attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: groupKey || randomKey(), secondaryKey: randomKey() } },
      });
    } else if (groupKey && !loaded) {
      this.groups.get(DEFAULT_GROUP).attestation.symmetricKey.primaryKey = groupKey;
    }
    if (!this.groups.has(DEFAULT_X509_GROUP) && deviceCa) {
      this.groups.set(DEFAULT_X509_GROUP, {
        id: DEFAULT_X509_GROUP, displayName: 'X509-IoT-Devices', type: 'iot', enabled: true,
        attestation: { type: 'x509', x509: { signingCertificates: { primary: { certificate: deviceCa } } } },
      });
    }
  }

  /** Adds or replaces a device template (throws TemplateError); returns it. */
  putTemplate(id, body) {
    const t = { ...parseTemplate(id, body), body };
    this.templates.set(id, t);
    this.changed();
    return t;
  }

  /** The template a device names, or null. */
  templateOf(device) {
    return (device.template && this.templates.get(device.template)) || null;
  }

  get groupKey() {
    return this.groups.get(DEFAULT_GROUP).attestation.symmetricKey.primaryKey;
  }

  get(id) {
    return this.devices.get(id);
  }

  create(id) {
    let d = this.devices.get(id);
    if (!d) {
      d = new Device(id, this.retention);
      this.devices.set(id, d);
      this.changed();
    }
    return d;
  }

  delete(id) {
    const d = this.devices.get(id);
    if (!d) return null;
    this.devices.delete(id);
    this.changed();
    return d;
  }

  nextHub(count) {
    return this.hubCounter++ % count;
  }

  /** Symmetric keys of a device: its individual enrollment, else derived from its (or the default) group. */
  symmetricKeys(device) {
    if (device.attestation && device.attestation.type === 'symmetricKey') return device.attestation.symmetricKey;
    const g = this.groups.get(device.group || DEFAULT_GROUP);
    const sk = g && g.attestation.type === 'symmetricKey' ? g.attestation.symmetricKey : this.groups.get(DEFAULT_GROUP).attestation.symmetricKey;
    return { primaryKey: deriveKey(sk.primaryKey, device.id), secondaryKey: deriveKey(sk.secondaryKey, device.id) };
  }

  /** Certificates (X509Certificate) trusted for X.509 groups, with their group ids. */
  x509Anchors() {
    const out = [];
    for (const g of this.groups.values()) {
      if (g.attestation.type !== 'x509') continue;
      const sc = g.attestation.x509.signingCertificates || {};
      for (const which of ['primary', 'secondary']) {
        const c = sc[which] && toCert(sc[which].certificate);
        if (c) out.push({ group: g, cert: c });
      }
    }
    return out;
  }

  changed() {
    if (this.onChange) this.onChange();
    if (!this.stateDir || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.save();
    }, 200);
    this.saveTimer.unref();
  }

  save() {
    if (!this.stateDir) return;
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = null;
    }
    const data = {
      version: 1, idScope: this.idScope, hubCounter: this.hubCounter,
      groups: [...this.groups.values()], templates: [...this.templates.values()].map((t) => ({ id: t.id, body: t.body })),
      devices: [...this.devices.values()].map((d) => d.toJSON()),
    };
    fs.mkdirSync(this.stateDir, { recursive: true });
    const file = path.join(this.stateDir, 'state.json');
    fs.writeFileSync(file + '.tmp', JSON.stringify(data), { mode: 0o600 });
    fs.renameSync(file + '.tmp', file);
  }

  load() {
    const file = path.join(this.stateDir, 'state.json');
    if (!fs.existsSync(file)) return false;
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!this.idScope) this.idScope = data.idScope;
    this.hubCounter = data.hubCounter || 0;
    for (const g of data.groups || []) this.groups.set(g.id, g);
    for (const t of data.templates || []) this.putTemplate(t.id, t.body);
    for (const j of data.devices || []) {
      const d = new Device(j.id, this.retention);
      Object.assign(d, j);
      d.initRuntime(this.retention);
      this.devices.set(d.id, d);
    }
    return true;
  }
}

// ---- twin -----------------------------------------------------------------------------------------

export class TwinError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Merges a patch into target: null deletes, objects merge recursively, anything else replaces. */
export function mergePatch(target, patch) {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (typeof v === 'object' && !Array.isArray(v)) {
      if (typeof target[k] !== 'object' || target[k] === null || Array.isArray(target[k])) target[k] = {};
      mergePatch(target[k], v);
    } else target[k] = v;
  }
  return target;
}

function checkNames(obj, depth = 0) {
  if (depth > 10) throw new TwinError(400, 'twin document nested too deeply (limit 10 levels)');
  for (const [k, v] of Object.entries(obj)) {
    if (k.startsWith('$') || k.includes('.') || k.includes(' ') || k.length === 0 || k.length > 512) {
      throw new TwinError(400, `invalid property name '${k.slice(0, 64)}'`);
    }
    if (v && typeof v === 'object' && !Array.isArray(v)) checkNames(v, depth + 1);
  }
}

/** Parses and validates a twin patch body (a JSON object). Throws TwinError. */
export function parseTwinPatch(payload) {
  if (payload.length > TWIN_SECTION_LIMIT) throw new TwinError(413, 'twin patch larger than 32 KB');
  let doc;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new TwinError(400, 'patch is not valid JSON');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new TwinError(400, 'patch must be a JSON object');
  checkNames(doc);
  return doc;
}

export function applyReported(device, patch) {
  const t = device.twin;
  const next = mergePatch(structuredClone(t.reported), patch);
  if (Buffer.byteLength(JSON.stringify(next)) > TWIN_SECTION_LIMIT) throw new TwinError(413, 'reported properties would exceed 32 KB');
  t.reported = next;
  t.reportedVersion++;
  t.reportedTime = new Date().toISOString();
  return t.reportedVersion;
}

/** Applies a desired patch; records per-property metadata under `prefix` (component name or ''). */
export function applyDesired(device, patch, component) {
  const t = device.twin;
  const next = mergePatch(structuredClone(t.desired), patch);
  if (Buffer.byteLength(JSON.stringify(next)) > TWIN_SECTION_LIMIT) throw new TwinError(413, 'desired properties would exceed 32 KB');
  t.desired = next;
  t.desiredVersion++;
  const now = new Date().toISOString();
  const record = (values, prefix) => {
    for (const [k, v] of Object.entries(values)) {
      if (k === '__t') continue;
      if (!prefix && isComponent(v)) record(v, k + '/');
      else t.meta[prefix + k] = { desiredValue: v, desiredVersion: t.desiredVersion, lastUpdateTime: now };
    }
  };
  record(component ? { [component]: patch[component] } : patch, '');
  return t.desiredVersion;
}

export function twinDocument(device) {
  const t = device.twin;
  return { desired: { ...t.desired, $version: t.desiredVersion }, reported: { ...t.reported, $version: t.reportedVersion } };
}

function isAck(v) {
  return v && typeof v === 'object' && !Array.isArray(v) && 'value' in v && ('ac' in v || 'av' in v);
}

function isComponent(v) {
  return v && typeof v === 'object' && !Array.isArray(v) && v.__t === 'c';
}

/** IoT Central's view of properties: reported values (acks unwrapped) plus $metadata for writable ones. */
export function centralProperties(device, component) {
  const t = device.twin;
  const reported = component ? t.reported[component] : t.reported;
  const prefix = component ? component + '/' : '';
  const out = {};
  const metadata = {};
  if (reported && typeof reported === 'object') {
    for (const [k, v] of Object.entries(reported)) {
      if (k === '__t' || k === '$version') continue;
      if (!component && isComponent(v)) {
        out[k] = centralProperties(device, k);
        continue;
      }
      if (isAck(v)) {
        out[k] = v.value;
        metadata[k] = { ...(metadata[k] || {}), ackCode: v.ac, ackVersion: v.av, ackDescription: v.ad };
      } else out[k] = v;
    }
  }
  for (const [key, m] of Object.entries(t.meta)) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    if (name.includes('/')) continue;
    metadata[name] = { desiredValue: m.desiredValue, desiredVersion: m.desiredVersion, ...(metadata[name] || {}), lastUpdateTime: m.lastUpdateTime };
  }
  if (!component) {
    // Components that have only desired values so far.
    for (const key of Object.keys(t.meta)) {
      const slash = key.indexOf('/');
      if (slash > 0 && !(key.slice(0, slash) in out)) out[key.slice(0, slash)] = centralProperties(device, key.slice(0, slash));
    }
  }
  if (Object.keys(metadata).length) out.$metadata = metadata;
  return out;
}
