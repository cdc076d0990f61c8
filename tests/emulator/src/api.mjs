// SPDX-License-Identifier: MIT
// The operator API: plain HTTP on loopback, shaped like IoT Central's REST API (/api/...), plus
// emulator-only routes under /emulator/ for tests (messages, wire log, waits, faults, failover).
import http from 'node:http';
import { serve, unserve } from './listen.mjs';
import crypto from 'node:crypto';
import { decode, validDeviceId } from './topics.mjs';
import { readBody } from './dps.mjs';
import { fileUploads } from './file_upload.mjs';
import { randomKey } from './sas.mjs';
import { centralProperties, twinDocument, TwinError, DEFAULT_GROUP } from './registry.mjs';
import { FaultError } from './faults.mjs';
import { issueDeviceCert } from './certs.mjs';
import { toCert } from './x509.mjs';
import { TemplateError, propertyRefusal, templateView } from './templates.mjs';
import { Dashboard, StaticError } from './dashboard.mjs';

const BODY_LIMIT = 1024 * 1024;
const NAME = /^[A-Za-z0-9_\-.:$]{1,128}$/;
const MAX_WAIT_MS = 120000;
// A route's answer when it has written the response itself (files, event streams).
const WRITTEN = Symbol('written');

class ApiError extends Error {
  constructor(status, code, message, extra) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

const bad = (message) => new ApiError(400, 'BadRequest', message);
const notFound = (message) => new ApiError(404, 'NotFound', message);

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function optType(body, key, type) {
  if (body[key] !== undefined && typeof body[key] !== type) throw bad(`${key} must be a ${type}`);
}

function numberParam(url, key, dflt, lo, hi) {
  const raw = url.searchParams.get(key);
  if (raw === null) return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < lo || n > hi) throw bad(`${key} must be a number from ${lo} to ${hi}`);
  return n;
}

export class Api {
  constructor(emu) {
    this.emu = emu;
    this.sockets = new Set();
    const D = '([^/]+)';
    this.routes = [
      ['GET', /^\/$|^\/index\.html$|^\/ui\/|^\/vendor\//, this.staticFile],
      ['GET', /^\/emulator\/events$/, this.openEvents],
      ['GET', /^\/api\/devices$/, this.listDevices],
      ['GET', new RegExp(`^/api/devices/${D}$`), this.getDevice],
      ['PUT', new RegExp(`^/api/devices/${D}$`), this.putDevice],
      ['PATCH', new RegExp(`^/api/devices/${D}$`), this.patchDevice],
      ['DELETE', new RegExp(`^/api/devices/${D}$`), this.deleteDevice],
      ['GET', new RegExp(`^/api/devices/${D}/attestation$`), this.getAttestation],
      ['PUT', new RegExp(`^/api/devices/${D}/attestation$`), this.putAttestation],
      ['GET', new RegExp(`^/api/devices/${D}/properties$`), this.getProperties],
      ['PATCH', new RegExp(`^/api/devices/${D}/properties$`), this.patchProperties],
      ['PUT', new RegExp(`^/api/devices/${D}/properties$`), this.patchProperties],
      ['GET', new RegExp(`^/api/devices/${D}/components/${D}/properties$`), this.getProperties],
      ['PATCH', new RegExp(`^/api/devices/${D}/components/${D}/properties$`), this.patchProperties],
      ['PUT', new RegExp(`^/api/devices/${D}/components/${D}/properties$`), this.patchProperties],
      ['POST', new RegExp(`^/api/devices/${D}/commands/${D}$`), this.runCommand],
      ['GET', new RegExp(`^/api/devices/${D}/commands/${D}$`), this.listCommands],
      ['POST', new RegExp(`^/api/devices/${D}/components/${D}/commands/${D}$`), this.runCommand],
      ['GET', new RegExp(`^/api/devices/${D}/components/${D}/commands/${D}$`), this.listCommands],
      ['GET', new RegExp(`^/api/devices/${D}/telemetry/${D}$`), this.getTelemetry],
      ['GET', new RegExp(`^/api/devices/${D}/components/${D}/telemetry/${D}$`), this.getTelemetry],
      ['GET', new RegExp(`^/api/devices/${D}/files$`), this.listFiles],
      ['GET', new RegExp(`^/api/devices/${D}/files/(.+)$`), this.getFile],
      ['GET', /^\/api\/deviceTemplates$/, this.listTemplates],
      ['GET', new RegExp(`^/api/deviceTemplates/${D}$`), this.getTemplate],
      ['PUT', new RegExp(`^/api/deviceTemplates/${D}$`), this.putTemplate],
      ['DELETE', new RegExp(`^/api/deviceTemplates/${D}$`), this.deleteTemplate],
      ['GET', /^\/api\/enrollmentGroups$/, this.listGroups],
      ['GET', new RegExp(`^/api/enrollmentGroups/${D}$`), this.getGroup],
      ['PUT', new RegExp(`^/api/enrollmentGroups/${D}$`), this.putGroup],
      ['DELETE', new RegExp(`^/api/enrollmentGroups/${D}$`), this.deleteGroup],
      ['GET', /^\/emulator\/health$/, () => ({ ok: true })],
      ['GET', /^\/emulator\/info$/, () => this.emu.info()],
      ['GET', /^\/emulator\/stats$/, this.stats],
      ['GET', /^\/emulator\/wire$/, this.getWire],
      ['GET', /^\/emulator\/faults$/, () => ({ value: this.emu.faults.list })],
      ['POST', /^\/emulator\/faults$/, this.addFault],
      ['DELETE', /^\/emulator\/faults$/, () => { this.emu.faults.clear(); return { status: 204 }; }],
      ['DELETE', new RegExp(`^/emulator/faults/${D}$`), this.deleteFault],
      ['POST', /^\/emulator\/shutdown$/, this.shutdown],
      ['GET', new RegExp(`^/emulator/devices/${D}$`), this.getConnection],
      ['GET', new RegExp(`^/emulator/devices/${D}/messages$`), this.getMessages],
      ['DELETE', new RegExp(`^/emulator/devices/${D}/messages$`), this.clearMessages],
      ['GET', new RegExp(`^/emulator/devices/${D}/twin$`), this.getTwin],
      ['GET', new RegExp(`^/emulator/devices/${D}/wait$`), this.wait],
      ['POST', new RegExp(`^/emulator/devices/${D}/disconnect$`), this.forceDisconnect],
      ['POST', new RegExp(`^/emulator/devices/${D}/failover$`), this.failover],
      ['POST', new RegExp(`^/emulator/devices/${D}/c2d$`), this.c2d],
      ['POST', new RegExp(`^/emulator/devices/${D}/methods$`), this.rawMethod],
      ['POST', new RegExp(`^/emulator/devices/${D}/provision$`), this.provision],
      ['POST', new RegExp(`^/emulator/devices/${D}/x509$`), this.issueCert],
    ];
  }

  listen(port, hosts) {
    const make = () => {
      const server = http.createServer((req, res) => this.handle(req, res));
      server.keepAliveTimeout = 1000;
      server.on('clientError', (err, socket) => socket.destroy());
      return server;
    };
    return serve(this, make, hosts, port);
  }

  close() {
    return unserve(this);
  }

  async handle(req, res) {
    let result;
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      let matched = false;
      let route;
      for (const r of this.routes) {
        const m = r[1].exec(path);
        if (!m) continue;
        matched = true;
        if (r[0] === req.method) {
          route = [r[2], m.slice(1).map(decode)];
          break;
        }
      }
      if (!route) throw matched ? new ApiError(405, 'MethodNotAllowed', `${req.method} is not supported on ${path}`) : notFound(`no route for ${path}`);
      const raw = await readBody(req, BODY_LIMIT);
      if (raw === null) throw new ApiError(413, 'PayloadTooLarge', 'request body larger than 1 MiB');
      let body;
      if (raw.length) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          throw bad('request body is not valid JSON');
        }
      }
      result = await route[0].call(this, { req, res, url, body, params: route[1] });
      if (result === WRITTEN) return;
    } catch (err) {
      if (err instanceof ApiError) result = { status: err.status, body: { error: { code: err.code, message: err.message, requestId: crypto.randomUUID(), ...(err.extra || {}) } } };
      else {
        process.stderr.write(`iotc-emulator: API error: ${err.stack}\n`);
        result = { status: 500, body: { error: { code: 'InternalServerError', message: err.message } } };
      }
    }
    if (!result || !('status' in result) || !('body' in result || result.status === 204)) result = { status: 200, body: result };
    if (res.destroyed) return;
    if (result.status === 204) {
      res.writeHead(204);
      return res.end();
    }
    const text = JSON.stringify(result.body);
    res.writeHead(result.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  device(id, { create = false } = {}) {
    if (!validDeviceId(id)) throw bad('invalid device id: 1-128 of letters, digits and - . % _ # * ? ! ( ) , : = @ $ \'');
    const d = this.emu.registry.get(id);
    if (!d && !create) throw notFound(`device ${id} not found`);
    return d;
  }

  deviceView(d) {
    const emu = this.emu;
    return {
      id: d.id, displayName: d.displayName, template: d.template, simulated: false, enabled: d.enabled,
      provisioned: d.provisioned, connected: !!emu.connectedClient(d),
      hub: d.hub === null ? null : emu.hubs[d.hub].hostName, etag: `"${d.twin.desiredVersion}.${d.twin.reportedVersion}"`,
    };
  }

  // ---- devices ----------------------------------------------------------------------------------

  listDevices() {
    return { value: [...this.emu.registry.devices.values()].map((d) => this.deviceView(d)) };
  }

  getDevice({ params }) {
    return this.deviceView(this.device(params[0]));
  }

  putDevice({ params, body }) {
    body = body === undefined ? {} : body;
    if (!isObject(body)) throw bad('body must be a JSON object');
    optType(body, 'displayName', 'string');
    optType(body, 'enabled', 'boolean');
    if (body.template !== undefined && body.template !== null && typeof body.template !== 'string') throw bad('template must be a string');
    if (typeof body.template === 'string' && !this.emu.registry.templates.has(body.template)) {
      throw notFound(`device template ${body.template.slice(0, 128)} not found (PUT /api/deviceTemplates/{id} first)`);
    }
    const existed = !!this.device(params[0], { create: true });
    const d = this.emu.configureDevice({ id: params[0], ...pick(body, ['displayName', 'template', 'enabled']) });
    this.emu.registry.changed();
    if (d.enabled === false) this.emu.disconnect(d, 'device disabled');
    return { status: existed ? 200 : 201, body: this.deviceView(d) };
  }

  patchDevice({ params, body }) {
    const d = this.device(params[0]);
    if (!isObject(body)) throw bad('body must be a JSON object');
    return this.putDevice({ params: [d.id], body });
  }

  deleteDevice({ params }) {
    const d = this.device(params[0]);
    this.emu.disconnect(d, 'device deleted');
    this.emu.registry.delete(d.id);
    return { status: 204 };
  }

  getAttestation({ params }) {
    const d = this.device(params[0]);
    const att = d.attestation;
    if (att) return att;
    const grp = this.emu.registry.groups.get(d.group || DEFAULT_GROUP);
    if (grp && grp.attestation.type === 'x509') return { type: 'x509' };
    return { type: 'symmetricKey', symmetricKey: this.emu.registry.symmetricKeys(d) };
  }

  putAttestation({ params, body }) {
    if (!isObject(body)) throw bad('body must be a JSON object');
    let att;
    if (body.type === 'symmetricKey') {
      const sk = body.symmetricKey === undefined ? {} : body.symmetricKey;
      if (!isObject(sk)) throw bad('symmetricKey must be an object');
      for (const k of ['primaryKey', 'secondaryKey']) {
        if (sk[k] !== undefined && (typeof sk[k] !== 'string' || !/^[A-Za-z0-9+/]{16,}={0,2}$/.test(sk[k]))) throw bad(`${k} must be a base64 key`);
      }
      att = { type: 'symmetricKey', symmetricKey: { primaryKey: sk.primaryKey || randomKey(), secondaryKey: sk.secondaryKey || randomKey() } };
    } else if (body.type === 'x509') {
      const certs = body.x509 && body.x509.clientCertificates;
      if (!isObject(certs) || !certs.primary) throw bad('x509.clientCertificates.primary is required');
      for (const which of ['primary', 'secondary']) {
        const c = certs[which];
        if (c === undefined) continue;
        if (!isObject(c)) throw bad(`x509.clientCertificates.${which} must be an object`);
        if (c.certificate !== undefined && !toCert(c.certificate)) throw bad(`x509.clientCertificates.${which}.certificate is not a certificate`);
        if (c.certificate === undefined && !(c.info && (typeof c.info.sha1Thumbprint === 'string' || typeof c.info.sha256Thumbprint === 'string'))) {
          throw bad(`x509.clientCertificates.${which} needs certificate or info.sha1Thumbprint`);
        }
      }
      att = { type: 'x509', x509: { clientCertificates: certs } };
    } else throw bad('type must be symmetricKey or x509');
    const d = this.device(params[0], { create: true }) || this.emu.registry.create(params[0]);
    d.attestation = att;
    d.hubAuth = null;
    d.provisioned = false;
    this.emu.registry.changed();
    return { status: 200, body: att };
  }

  // ---- properties -------------------------------------------------------------------------------

  getProperties({ params }) {
    const d = this.device(params[0]);
    const component = params[1];
    if (component !== undefined && !NAME.test(component)) throw bad('invalid component name');
    return centralProperties(d, component);
  }

  patchProperties({ params, body }) {
    const d = this.device(params[0]);
    const component = params[1];
    if (component !== undefined && !NAME.test(component)) throw bad('invalid component name');
    if (!isObject(body) || Object.keys(body).length === 0) throw bad('body must be a non-empty JSON object of property values');
    for (const k of Object.keys(body)) {
      if (!NAME.test(k) || k.startsWith('$')) throw bad(`invalid property name '${k.slice(0, 64)}'`);
    }
    const template = this.emu.registry.templateOf(d);
    const patch = template ? this.templatePatch(template, component, body) : component ? { [component]: { __t: 'c', ...body } } : body;
    try {
      this.emu.setDesired(d, patch, component);
    } catch (err) {
      if (err instanceof TwinError) throw new ApiError(err.status, 'BadRequest', err.message);
      throw err;
    }
    return centralProperties(d, component);
  }

  /**
   * A property write checked against the device's template, as IoT Central checks it: at the root a
   * key names a writable property or a component (whose value holds that component's properties).
   */
  templatePatch(template, component, body) {
    const part = (name) => {
      const c = template.components.get(name);
      if (!c) throw notFound(`device template ${template.id} has no component ${name}`);
      return c;
    };
    const checked = (where, caps, values) => {
      if (!isObject(values) || Object.keys(values).length === 0) throw bad(`${where} needs a non-empty object of property values`);
      for (const [k, v] of Object.entries(values)) {
        const why = propertyRefusal(caps, k, v, where);
        if (why) throw bad(why);
      }
      return values;
    };
    if (component !== undefined) return { [component]: { __t: 'c', ...checked(`component ${component}`, part(component), body) } };
    const patch = {};
    for (const [k, v] of Object.entries(body)) {
      if (template.components.has(k)) patch[k] = { __t: 'c', ...checked(`component ${k}`, part(k), v) };
      else patch[k] = checked('the device', template.root, { [k]: v })[k];
    }
    return patch;
  }

  // ---- device templates -------------------------------------------------------------------------

  listTemplates() {
    return { value: [...this.emu.registry.templates.values()].map(templateView) };
  }

  getTemplate({ params }) {
    const t = this.emu.registry.templates.get(params[0]);
    if (!t) throw notFound(`device template ${params[0].slice(0, 128)} not found`);
    return templateView(t);
  }

  putTemplate({ params, body }) {
    if (body === undefined) throw bad('body must be a device template (DTDL)');
    const existed = this.emu.registry.templates.has(params[0]);
    try {
      return { status: existed ? 200 : 201, body: templateView(this.emu.registry.putTemplate(params[0], body)) };
    } catch (err) {
      if (err instanceof TemplateError) throw new ApiError(400, 'InvalidDeviceTemplate', err.message);
      throw err;
    }
  }

  deleteTemplate({ params }) {
    const registry = this.emu.registry;
    const t = registry.templates.get(params[0]);
    if (!t) throw notFound(`device template ${params[0].slice(0, 128)} not found`);
    const user = [...registry.devices.values()].find((d) => registry.templateOf(d) === t);
    if (user) throw new ApiError(409, 'Conflict', `device template ${t.id} is used by device ${user.id}`);
    registry.templates.delete(t.id);
    registry.changed();
    return { status: 204 };
  }

  // ---- commands ---------------------------------------------------------------------------------

  // ---- file uploads (file_upload.mjs) ----

  listFiles({ params }) {
    this.device(params[0]);
    return fileUploads(this.emu).list(params[0]);
  }

  async getFile({ params, res }) {
    this.device(params[0]);
    if (!(await fileUploads(this.emu).content(params[0], params[1], res))) throw notFound(`device ${params[0]} has no file ${params[1]}`);
    return WRITTEN;
  }

  async runCommand({ params, body }) {
    const d = this.device(params[0]);
    const [component, name] = params.length === 3 ? [params[1], params[2]] : [undefined, params[1]];
    if (!NAME.test(name) || (component !== undefined && !NAME.test(component))) throw bad('invalid command or component name');
    const template = this.emu.registry.templateOf(d);
    if (template) {
      const part = component === undefined ? template.root : template.components.get(component);
      if (!part) throw notFound(`device template ${template.id} has no component ${component}`);
      if (!part.commands.has(name)) throw notFound(`device template ${template.id} has no command ${name}${component ? ` in component ${component}` : ''}`);
    }
    body = body === undefined ? {} : body;
    if (!isObject(body)) throw bad('body must be a JSON object');
    const timeout = body.responseTimeout === undefined ? 30 : body.responseTimeout;
    const connTimeout = body.connectionTimeout === undefined ? 0 : body.connectionTimeout;
    for (const [k, v] of [['responseTimeout', timeout], ['connectionTimeout', connTimeout]]) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 300) throw bad(`${k} must be seconds from 0 to 300`);
    }
    if (body.queued !== undefined && typeof body.queued !== 'boolean') throw bad('queued must be a boolean');
    const methodName = component ? `${component}*${name}` : name;
    const entry = { id: crypto.randomUUID(), name, component, request: body.request, time: new Date().toISOString() };
    entry.seq = ++this.emu.msgSeq;
    if (body.queued) {
      const payload = body.request === undefined ? '@' : JSON.stringify(body.request);
      const r = this.emu.sendC2d(d, payload, { 'method-name': methodName });
      if (r.error) throw new ApiError(403, 'QueueFull', r.error);
      entry.queued = true;
      d.commands.push(entry);
      return { status: 201, body: view(entry) };
    }
    const r = await this.emu.invokeMethod(d, methodName, body.request, timeout, connTimeout);
    if (r.error) {
      entry.responseCode = r.error.status;
      d.commands.push(entry);
      throw new ApiError(r.error.status, r.error.code, r.error.message, { errorCode: r.error.errorCode });
    }
    entry.response = r.payload;
    entry.responseCode = r.status;
    d.commands.push(entry);
    return { status: 201, body: view(entry) };

    function view(e) {
      const out = { id: e.id, request: e.request, response: e.response, responseCode: e.responseCode };
      if (e.queued) out.queued = true;
      return out;
    }
  }

  // IoT Hub's own direct-method call (service API `POST /twins/{id}/methods`): any method name
  // the hub would carry, without IoT Central's name rules, to see how a device copes with it.
  async rawMethod({ params, body }) {
    const d = this.device(params[0]);
    if (!isObject(body)) throw bad('body must be a JSON object');
    const name = body.methodName;
    if (typeof name !== 'string' || name.length < 1 || name.length > 128 || /[\/#+\u0000-\u001f]/.test(name)) {
      throw bad('methodName must be 1 to 128 characters without /, #, + or control characters');
    }
    const timeout = body.responseTimeoutInSeconds === undefined ? 30 : body.responseTimeoutInSeconds;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0 || timeout > 300) {
      throw bad('responseTimeoutInSeconds must be seconds from 0 to 300');
    }
    const r = await this.emu.invokeMethod(d, name, body.payload, timeout, 0);
    if (r.error) throw new ApiError(r.error.status, r.error.code, r.error.message, { errorCode: r.error.errorCode });
    return { status: 200, body: { status: r.status, payload: r.payload } };
  }

  listCommands({ params }) {
    const d = this.device(params[0]);
    const [component, name] = params.length === 3 ? [params[1], params[2]] : [undefined, params[1]];
    const value = [];
    for (let i = 0; i < d.commands.length; i++) {
      const e = d.commands.at(i);
      if (e.name === name && e.component === component) value.push({ id: e.id, request: e.request, response: e.response, responseCode: e.responseCode, ...(e.queued ? { queued: true } : {}) });
    }
    return { value };
  }

  getTelemetry({ params }) {
    const d = this.device(params[0]);
    const [component, name] = params.length === 3 ? [params[1], params[2]] : [undefined, params[1]];
    const t = this.emu.latestTelemetry(d, component, name);
    if (!t) throw notFound(`no telemetry ${name} from ${d.id}`);
    return t;
  }

  // ---- enrollment groups ------------------------------------------------------------------------

  listGroups() {
    return { value: [...this.emu.registry.groups.values()] };
  }

  getGroup({ params }) {
    const g = this.emu.registry.groups.get(params[0]);
    if (!g) throw notFound(`enrollment group ${params[0]} not found`);
    return g;
  }

  putGroup({ params, body }) {
    const id = params[0];
    if (!NAME.test(id)) throw bad('invalid enrollment group id');
    if (!isObject(body)) throw bad('body must be a JSON object');
    optType(body, 'displayName', 'string');
    optType(body, 'enabled', 'boolean');
    const att = body.attestation;
    if (!isObject(att)) throw bad('attestation is required');
    let attestation;
    if (att.type === 'symmetricKey') {
      const sk = isObject(att.symmetricKey) ? att.symmetricKey : {};
      for (const k of ['primaryKey', 'secondaryKey']) {
        if (sk[k] !== undefined && (typeof sk[k] !== 'string' || !/^[A-Za-z0-9+/]{16,}={0,2}$/.test(sk[k]))) throw bad(`${k} must be a base64 key`);
      }
      attestation = { type: 'symmetricKey', symmetricKey: { primaryKey: sk.primaryKey || randomKey(), secondaryKey: sk.secondaryKey || randomKey() } };
    } else if (att.type === 'x509') {
      const sc = att.x509 && att.x509.signingCertificates;
      if (!isObject(sc) || !isObject(sc.primary) || !toCert(sc.primary.certificate)) throw bad('x509.signingCertificates.primary.certificate must be a certificate (PEM or base64 DER)');
      if (sc.secondary !== undefined && (!isObject(sc.secondary) || !toCert(sc.secondary.certificate))) throw bad('x509.signingCertificates.secondary.certificate is not a certificate');
      attestation = { type: 'x509', x509: { signingCertificates: pick(sc, ['primary', 'secondary']) } };
    } else throw bad('attestation.type must be symmetricKey or x509');
    const g = { id, displayName: body.displayName || id, type: body.type || 'iot', enabled: body.enabled !== false, attestation };
    this.emu.registry.groups.set(id, g);
    this.emu.registry.changed();
    return g;
  }

  deleteGroup({ params }) {
    if (params[0] === DEFAULT_GROUP) throw bad('the default group cannot be deleted');
    if (!this.emu.registry.groups.delete(params[0])) throw notFound(`enrollment group ${params[0]} not found`);
    this.emu.registry.changed();
    return { status: 204 };
  }

  // ---- dashboard --------------------------------------------------------------------------------

  async staticFile({ res, url }) {
    let file;
    try {
      file = await this.emu.dashboard.file(url.pathname);
    } catch (err) {
      if (err instanceof StaticError) throw bad(err.message);
      throw err;
    }
    if (!file) throw notFound(`no file ${url.pathname.slice(0, 256)}`);
    Dashboard.write(res, file);
    return WRITTEN;
  }

  /** Server-sent events: the device list, or with ?deviceId= one device's changes, messages and wire log. */
  openEvents({ res, url }) {
    const id = url.searchParams.get('deviceId');
    const d = id === null ? null : this.device(id);
    if (this.emu.events.full) throw new ApiError(503, 'ServiceUnavailable', `at most ${this.emu.events.opts.maxClients} event streams at a time`);
    this.emu.events.open(res, d);
    return WRITTEN;
  }

  // ---- emulator-only ----------------------------------------------------------------------------

  getWire({ url }) {
    const since = numberParam(url, 'since', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = numberParam(url, 'limit', 1000, 1, 100000);
    const deviceId = url.searchParams.get('deviceId') ?? undefined;
    const value = this.emu.wire.since(since, { deviceId, limit });
    return { value, next: value.length ? value[value.length - 1].seq : since, last: this.emu.wire.seq };
  }

  stats() {
    const emu = this.emu;
    const mem = process.memoryUsage();
    let connected = 0;
    let messages = 0;
    for (const d of emu.registry.devices.values()) {
      if (emu.connectedClient(d)) connected++;
      messages += d.messages.length;
    }
    return {
      rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, devices: emu.registry.devices.size, connected,
      messagesRetained: messages, messagesReceived: emu.msgSeq, wireEntries: emu.wire.seq,
    };
  }

  addFault({ body }) {
    try {
      return { status: 201, body: this.emu.faults.add(body) };
    } catch (err) {
      if (err instanceof FaultError) throw bad(err.message);
      throw err;
    }
  }

  deleteFault({ params }) {
    if (!this.emu.faults.remove(params[0])) throw notFound('no such fault');
    return { status: 204 };
  }

  shutdown() {
    setImmediate(() => process.kill(process.pid, 'SIGTERM'));
    return { status: 202, body: { stopping: true } };
  }

  getConnection({ params }) {
    const d = this.device(params[0]);
    const client = this.emu.connectedClient(d);
    const conn = d.conn;
    return {
      ...this.deviceView(d),
      c2dQueued: d.c2d.length,
      connection: client ? {
        hub: this.emu.hubs[conn.hub].hostName, since: new Date(conn.since).toISOString(), auth: conn.auth,
        username: conn.username, clientId: client.id, clean: client.clean, keepalive: client._keepaliveInterval > 0 ? Math.round((client._keepaliveInterval - 1) / 1500) : 0,
        subscriptions: Object.entries(client.subscriptions).map(([topic, s]) => ({ topic, qos: s.qos })),
        sasExpiry: conn.expiry ? new Date(conn.expiry * 1000).toISOString() : null,
      } : null,
      registration: d.registration,
    };
  }

  async getMessages({ params, url }) {
    const d = this.device(params[0]);
    const since = numberParam(url, 'since', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = numberParam(url, 'limit', 1000, 1, 100000);
    const timeoutMs = numberParam(url, 'timeoutMs', 0, 0, MAX_WAIT_MS);
    const newer = () => d.messages.length > 0 && d.messages.last().seq > since;
    await this.emu.waitFor(d, newer, timeoutMs);
    const value = d.messages.since(since, limit).map((m) => this.emu.renderMessage(m));
    return { value, next: value.length ? value[value.length - 1].seq : since, dropped: d.messages.dropped };
  }

  clearMessages({ params }) {
    const d = this.device(params[0]);
    d.messages.clear();
    return { status: 204 };
  }

  getTwin({ params }) {
    return twinDocument(this.device(params[0]));
  }

  async wait({ params, url }) {
    const d = this.device(params[0]);
    const timeoutMs = numberParam(url, 'timeoutMs', 5000, 0, MAX_WAIT_MS);
    const topic = url.searchParams.get('subscribed');
    const connected = url.searchParams.get('connected');
    const provisioned = url.searchParams.get('provisioned');
    if (topic === null && connected === null && provisioned === null) throw bad('give subscribed=FILTER, connected=true|false or provisioned=true');
    const predicate = (dev) => {
      const client = this.emu.connectedClient(dev);
      if (connected !== null && (connected === 'false') === !!(client && client.connected)) return false;
      if (provisioned !== null && !dev.provisioned) return false;
      if (topic !== null && !(client && client.connected && topic in client.subscriptions)) return false;
      return true;
    };
    const ok = await this.emu.waitFor(d, predicate, timeoutMs);
    const view = this.getConnection({ params });
    if (!ok) return { status: 408, body: { error: { code: 'Timeout', message: `condition not met within ${timeoutMs} ms` }, device: view } };
    return view;
  }

  forceDisconnect({ params }) {
    const d = this.device(params[0]);
    if (!this.emu.disconnect(d)) throw notFound(`device ${d.id} is not connected`);
    return { disconnected: true };
  }

  failover({ params }) {
    const d = this.device(params[0]);
    const r = this.emu.failover(d);
    if (!r) throw bad(`device ${d.id} is not provisioned`);
    return r;
  }

  c2d({ params, body }) {
    const d = this.device(params[0]);
    body = body === undefined ? {} : body;
    if (!isObject(body)) throw bad('body must be a JSON object');
    const props = body.properties === undefined ? {} : body.properties;
    if (!isObject(props) || Object.values(props).some((v) => v !== null && typeof v !== 'string')) throw bad('properties must be an object of strings');
    let payload = body.body === undefined ? '' : body.body;
    if (typeof payload !== 'string') payload = JSON.stringify(payload);
    if (Buffer.byteLength(payload) > 64 * 1024) throw bad('C2D messages are limited to 64 KB');
    const r = this.emu.sendC2d(d, payload, props);
    if (r.error) throw new ApiError(403, 'QueueFull', r.error);
    return { status: 201, body: r };
  }

  /** Registers the device on a hub without going through DPS (for hub-only tests). */
  provision({ params, body }) {
    const emu = this.emu;
    body = body === undefined ? {} : body;
    if (!isObject(body)) throw bad('body must be a JSON object');
    if (body.hub !== undefined && ![0, 1].includes(body.hub)) throw bad('hub must be 0 or 1');
    const d = this.device(params[0], { create: true }) || emu.registry.create(params[0]);
    if (body.hub !== undefined) d.hub = body.hub;
    else if (d.hub === null) d.hub = emu.registry.nextHub(emu.hubs.length);
    if (d.attestation && d.attestation.type === 'x509') d.hubAuth = { kind: 'x509', group: null };
    else {
      const keys = emu.registry.symmetricKeys(d);
      d.hubAuth = { kind: 'sas', keys: [keys.primaryKey, keys.secondaryKey] };
    }
    d.provisioned = true;
    d.registration = { registrationId: d.id, deviceId: d.id, assignedHub: emu.hubs[d.hub].hostName, status: 'assigned', substatus: 'initialAssignment', lastUpdatedDateTimeUtc: new Date().toISOString() };
    emu.registry.changed();
    emu.deviceChanged(d);
    return { deviceId: d.id, assignedHub: emu.hubs[d.hub].hostName, ...(d.hubAuth.kind === 'sas' ? { primaryKey: d.hubAuth.keys[0], secondaryKey: d.hubAuth.keys[1] } : {}) };
  }

  issueCert({ params, body }) {
    const id = params[0];
    if (!validDeviceId(id) || /[/\\]/.test(id)) throw bad('invalid device id');
    body = body === undefined ? {} : body;
    if (!isObject(body)) throw bad('body must be a JSON object');
    const days = body.days === undefined ? 30 : body.days;
    if (!Number.isInteger(days) || days < 1 || days > 3650) throw bad('days must be an integer from 1 to 3650');
    const r = issueDeviceCert(this.emu.certs.dir, id, { days });
    return { status: 201, body: { ...r, group: 'X509-IoT-Devices', caCertificate: this.emu.certs.deviceCa } };
  }
}

function pick(obj, keys) {
  const out = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}
