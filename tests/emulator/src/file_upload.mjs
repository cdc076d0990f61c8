// SPDX-License-Identifier: MIT
// IoT Hub's file upload (HTTPS): a device asks for a blob SAS URI (POST /devices/{id}/files), writes
// the blob to storage (storage.mjs, Azurite), then reports the outcome (POST .../files/notifications).
// The hub serves HTTPS on the same TLS port as MQTT, the one its host name carries: the first byte a
// client sends decides (an MQTT CONNECT starts with 0x10, an HTTP request with a method's letter).
// The operator API lists a device's files and serves their content.
import crypto from 'node:crypto';
import http from 'node:http';
import { readBody } from './dps.mjs';
import { decode } from './topics.mjs';
import { Storage, StorageMissing, blobSas } from './storage.mjs';

export const API_VERSION = '2021-04-12';
const CONTAINER = 'iotc-file-uploads';
const SAS_TTL_S = 3600;           // IoT Hub's default SAS URI lifetime for file uploads (1 h)
const MAX_ACTIVE_PER_DEVICE = 10; // IoT Hub: at most 10 concurrent file uploads per device
const BODY_LIMIT = 64 * 1024;
const MAX_BLOB_NAME = 1024;       // Azure Storage: a blob name has at most 1024 characters ...
const MAX_SEGMENTS = 254;         // ... in at most 254 path segments

/** Serves one plain HTTPS request stream on a hub's TLS socket (its first chunk already read). */
export function serveHubHttp(hub, socket, first) {
  socket.pause();
  socket.unshift(first);
  fileUploads(hub.emu).server(hub).emit('connection', socket);
  socket.resume();
}

/** The emulator's file-upload state, created on first use. */
export function fileUploads(emu) {
  if (!emu.fileUploads) emu.fileUploads = new FileUploads(emu);
  return emu.fileUploads;
}

/** Stops the storage a run started (nothing when no upload happened). */
export function closeFileUploads(emu) {
  return emu.fileUploads ? emu.fileUploads.storage.close() : Promise.resolve();
}

class HubError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Why a blob name is refused, or null. The hub stores it as {deviceId}/{blobName}. */
export function blobNameError(deviceId, name) {
  if (typeof name !== 'string' || name === '') return 'blobName must be a non-empty string';
  const full = `${deviceId}/${name}`;
  if (full.length > MAX_BLOB_NAME) return `blob name too long: {deviceId}/{blobName} has ${full.length} characters, at most ${MAX_BLOB_NAME}`;
  if (full.split('/').length > MAX_SEGMENTS) return `blob name has more than ${MAX_SEGMENTS} path segments`;
  if (/[\u0000-\u001f\u007f\\]/.test(name)) return 'blob name contains a control character or a backslash';
  if (name.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'blob name has an empty, "." or ".." path segment';
  if (name.endsWith('.')) return 'blob name must not end with a dot';
  return null;
}

class FileUploads {
  constructor(emu) {
    this.emu = emu;
    this.storage = new Storage(emu);
    this.uploads = new Map(); // correlationId -> upload record
    this.servers = new Map(); // hub index -> http.Server (never listens: fed by routeHubSocket)
  }

  server(hub) {
    let s = this.servers.get(hub.index);
    if (!s) {
      s = http.createServer((req, res) => this.handle(hub, req, res));
      s.keepAliveTimeout = 5000;
      s.on('clientError', (err, socket) => socket.destroy());
      this.servers.set(hub.index, s);
    }
    return s;
  }

  async handle(hub, req, res) {
    const url = new URL(req.url, 'https://hub');
    const m = /^\/devices\/([^/]+)\/files(?:\/notifications(?:\/([^/]+))?)?$/.exec(url.pathname);
    const deviceId = m ? decode(m[1]) : undefined;
    const wire = hub.log(deviceId, { dir: 'in', type: 'HTTP', method: req.method, url: url.pathname });
    let status = 200;
    let body;
    try {
      if (!m) throw new HubError(404, 'NotFound', `no route for ${req.method} ${url.pathname}`);
      if (req.method !== 'POST') throw new HubError(405, 'MethodNotAllowed', `${req.method} is not supported`);
      if (!url.searchParams.get('api-version')) throw new HubError(400, 'InvalidProtocolVersion', 'api-version is missing');
      const raw = await readBody(req, BODY_LIMIT);
      if (raw === null) throw new HubError(413, 'MessageTooLarge', 'request body too large');
      let json;
      try {
        json = JSON.parse(raw.toString('utf8') || 'null');
      } catch {
        throw new HubError(400, 'ArgumentInvalid', 'request body is not valid JSON');
      }
      const device = this.authenticate(hub, req, deviceId);
      if (!url.pathname.includes('/notifications')) {
        body = await this.start(hub, device, json);
      } else {
        this.notify(device, m[2] !== undefined ? decode(m[2]) : undefined, json);
        status = 204;
      }
    } catch (err) {
      if (!(err instanceof HubError)) {
        process.stderr.write(`iotc-emulator: file upload: ${err.stack}\n`);
        err = new HubError(500, 'ServerError', err.message);
      }
      status = err.status;
      body = { Message: `ErrorCode:${err.code};${err.message}`, ExceptionMessage: `Tracking ID:${crypto.randomUUID()}-TimeStamp:${new Date().toISOString()}` };
    }
    const redacted = body && body.sasToken ? { ...body, sasToken: '<redacted>' } : body;
    hub.log(deviceId, { dir: 'out', type: 'HTTP', status, of: wire && wire.id }, redacted === undefined ? undefined : JSON.stringify(redacted));
    if (status === 204) {
      res.writeHead(204);
      return res.end();
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** The device a request authenticates as (SAS in Authorization, or its client certificate). */
  authenticate(hub, req, deviceId) {
    const client = { id: deviceId, conn: req.socket };
    const username = `${hub.hostName}/${deviceId}/?api-version=${API_VERSION}`;
    const auth = req.headers.authorization;
    const result = hub.check(client, username, auth ? Buffer.from(auth, 'utf8') : undefined);
    if (result.error) throw new HubError(401, 'IotHubUnauthorizedAccess', result.error.message);
    return result.device;
  }

  async start(hub, device, json) {
    if (this.emu.faults.take('uploadNotConfigured', { deviceId: device.id })) {
      throw new HubError(400, 'InvalidStorageEndpointOrBlob', 'file upload is not configured: the application has no storage account');
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new HubError(400, 'ArgumentInvalid', 'body must be a JSON object with blobName');
    const why = blobNameError(device.id, json.blobName);
    if (why) throw new HubError(400, 'ArgumentInvalid', why);
    const active = [...this.uploads.values()].filter((u) => u.deviceId === device.id && !u.notification && Date.now() < u.expires);
    if (active.length >= MAX_ACTIVE_PER_DEVICE) {
      throw new HubError(403, 'IotHubQuotaExceeded', `at most ${MAX_ACTIVE_PER_DEVICE} file uploads may be active per device`);
    }
    const host = await this.storage.start().catch((err) => {
      // as a hub without storage answers: the device reports the cause in its own words
      if (err instanceof StorageMissing) throw new HubError(400, 'InvalidStorageEndpointOrBlob', err.message);
      throw err;
    });
    await this.storage.ensureContainer(CONTAINER);
    const fault = this.emu.faults.take('sasExpiry', { deviceId: device.id });
    const ttl = fault ? fault.seconds : SAS_TTL_S;
    const blobName = `${device.id}/${json.blobName}`;
    const correlationId = crypto.randomBytes(24).toString('base64');
    const expires = Date.now() + ttl * 1000;
    this.uploads.set(correlationId, { correlationId, deviceId: device.id, blobName, hub: hub.index, created: new Date().toISOString(), expires, notification: null });
    this.emu.note(`file upload: ${device.id} may write ${blobName} for ${ttl} s`, 2);
    return { correlationId, hostName: host, containerName: CONTAINER, blobName, sasToken: blobSas(CONTAINER, blobName, 'rcw', expires) };
  }

  notify(device, pathCorrelationId, json) {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new HubError(400, 'ArgumentInvalid', 'body must be a JSON object');
    const correlationId = pathCorrelationId !== undefined ? pathCorrelationId : json.correlationId;
    if (typeof correlationId !== 'string' || correlationId === '') throw new HubError(400, 'ArgumentInvalid', 'correlationId is missing');
    if (typeof json.isSuccess !== 'boolean') throw new HubError(400, 'ArgumentInvalid', 'isSuccess must be a boolean');
    const u = this.uploads.get(correlationId);
    if (!u || u.deviceId !== device.id) throw new HubError(404, 'NotFound', 'no file upload with this correlationId for this device');
    const fault = this.emu.faults.take('notifyFail', { deviceId: device.id });
    if (fault) throw new HubError(fault.status, 'ServerError', 'notification refused by fault injection');
    u.notification = {
      isSuccess: json.isSuccess,
      statusCode: json.statusCode,
      statusDescription: typeof json.statusDescription === 'string' ? json.statusDescription.slice(0, 1024) : undefined,
      at: new Date().toISOString(),
    };
    this.emu.note(`file upload: ${device.id} reports ${u.blobName}: ${json.isSuccess ? 'success' : 'failure'} (${json.statusCode})`, 1);
  }

  /** Operator API: the device's uploads, newest first, with the blob's size where it exists. */
  async list(deviceId) {
    const mine = [...this.uploads.values()].filter((u) => u.deviceId === deviceId).reverse();
    const value = [];
    for (const u of mine) {
      const info = this.storage.child ? await this.storage.blobInfo(CONTAINER, u.blobName) : null;
      value.push({
        name: u.blobName.slice(deviceId.length + 1),
        blobName: u.blobName,
        container: CONTAINER,
        correlationId: u.correlationId,
        created: u.created,
        exists: info !== null,
        size: info ? info.size : undefined,
        contentType: info ? info.contentType : undefined,
        notification: u.notification,
      });
    }
    return { value };
  }

  /** Operator API: a blob's content, streamed to res; false when the device has no such file. */
  async content(deviceId, name, res) {
    if (!this.storage.child) return false;
    const blob = name.startsWith(`${deviceId}/`) ? name : `${deviceId}/${name}`;
    const up = await this.storage.blobContent(CONTAINER, blob);
    if (!up) return false;
    res.writeHead(up.statusCode, { 'content-type': up.headers['content-type'] || 'application/octet-stream', 'content-length': up.headers['content-length'] });
    up.pipe(res);
    return true;
  }
}

