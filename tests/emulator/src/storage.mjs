// SPDX-License-Identifier: MIT
// The application's storage account: Azurite (the Azure Storage emulator) in a child process on a
// loopback port, behind a TLS front that serves it with the emulator's certificate at the host name
// the hub hands to devices. The front is where storage faults are injected; Azurite itself checks
// each request's SAS (signature, permissions, expiry), as Azure Storage does.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { LOCALHOST_ADDRESSES, serve, unserve } from './listen.mjs';

// Azurite's well-known development account (public, documented by Azure).
export const ACCOUNT = 'devstoreaccount1';
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const SAS_VERSION = '2019-12-12';
const START_TIMEOUT_MS = 30000;
const EXTENT_LIMIT_MB = 4096;

const isoSeconds = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A service SAS (query string with its leading '?') for a blob. */
function sas(container, blob, permissions, expiresMs) {
  const se = isoSeconds(expiresMs);
  // The 2018-11-09+ string to sign: sp st se resource si sip spr sv sr snapshot rscc rscd rsce rscl rsct.
  const resource = `/blob/${ACCOUNT}/${container}/${blob}`;
  const toSign = [permissions, '', se, resource, '', '', '', SAS_VERSION, 'b', '', '', '', '', '', ''].join('\n');
  const sig = crypto.createHmac('sha256', Buffer.from(ACCOUNT_KEY, 'base64')).update(toSign, 'utf8').digest('base64');
  return '?' + new URLSearchParams({ sv: SAS_VERSION, se, sr: 'b', sp: permissions, sig }).toString();
}

/** A SAS for one blob, as IoT Hub issues to devices. */
export const blobSas = (container, blob, permissions, expiresMs) => sas(container, blob, permissions, expiresMs);

/** An account SAS (the emulator's own requests: create the container, read blobs), without '?'. */
function accountSas() {
  const se = isoSeconds(Date.now() + 600e3);
  const toSign = [ACCOUNT, 'rwdlac', 'b', 'sco', '', se, '', '', SAS_VERSION, ''].join('\n');
  const sig = crypto.createHmac('sha256', Buffer.from(ACCOUNT_KEY, 'base64')).update(toSign, 'utf8').digest('base64');
  return new URLSearchParams({ sv: SAS_VERSION, ss: 'b', srt: 'sco', sp: 'rwdlac', se, sig }).toString();
}

/** Percent-encodes each segment of a blob name, keeping its slashes. */
export const blobPath = (name) => name.split('/').map(encodeURIComponent).join('/');

/** Storage cannot start because Azurite is not installed. */
export class StorageMissing extends Error {}

export class Storage {
  constructor(emu) {
    this.emu = emu;
    this.svc = 'storage';
    this.child = null;
    this.backendPort = 0;
    this.port = 0;
    this.sockets = new Set();
    this.starting = null;
    this.requests = 0;
  }

  /** Starts Azurite and the front once (on the first upload); resolves to the front's host name. */
  start() {
    if (!this.starting) this.starting = this.launch().catch((err) => {
      this.starting = null;
      throw err;
    });
    return this.starting;
  }

  async launch() {
    const require = createRequire(import.meta.url);
    let main;
    try {
      main = require.resolve('azurite/dist/src/blob/main.js');
    } catch {
      throw new StorageMissing('the emulator\'s storage (the npm package azurite) is not installed: run npm ci in tests/emulator');
    }
    // Plain HTTP on 127.0.0.1 only: nothing but the front in this process reaches it. Blobs live
    // in memory, at most EXTENT_LIMIT_MB (a full benchmark stores about 2.3 GiB; Azurite frees
    // overwritten blobs only at its periodic clean-up).
    const guard = fileURLToPath(new URL('./storage_guard.cjs', import.meta.url));
    const args = ['--require', guard, main, '--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence', '--extentMemoryLimit', String(EXTENT_LIMIT_MB),
      '--disableTelemetry', '--silent', '--loose', '--skipApiVersionCheck', '--disableProductStyleUrl'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.backendPort = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => done(new Error('Azurite did not start within 30 s')), START_TIMEOUT_MS);
      const done = (err, port) => {
        clearTimeout(timer);
        child.stdout.removeAllListeners('data');
        child.removeAllListeners('exit');
        child.stdout.resume();
        if (err) reject(err);
        else resolve(port);
      };
      child.stdout.on('data', (d) => {
        out += d.toString('utf8');
        const m = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) done(null, Number(m[1]));
      });
      child.stderr.on('data', (d) => this.emu.note(`storage: azurite: ${d.toString('utf8').trim().slice(0, 300)}`));
      child.on('exit', (code, signal) => done(new Error(`Azurite exited (${signal || code}) before listening: ${out.trim().slice(0, 300)}`)));
    });
    child.on('exit', (code, signal) => {
      if (!this.stopped) this.emu.note(`storage: Azurite exited unexpectedly (${signal || code})`);
    });
    this.emu.note(`storage: Azurite (pid ${child.pid}) on 127.0.0.1:${this.backendPort}`, 2);
    const { cert, key } = this.emu.certs;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.agent = agent;
    const make = () => {
      const server = https.createServer({ cert, key }, (req, res) => this.forward(req, res));
      server.keepAliveTimeout = 5000;
      server.on('clientError', (err, socket) => socket.destroy());
      return server;
    };
    await serve(this, make, LOCALHOST_ADDRESSES, 0); // 'localhost' is ::1 first on a stock Debian
    return `localhost:${this.port}`;
  }

  /** Azurite's answer to a request of the emulator itself (container create, listing, reads). */
  backend(method, path, headers = {}, body = null) {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.backendPort, method, path, headers: { 'x-ms-version': SAS_VERSION, ...headers }, agent: this.agent }, (res) => {
        resolve(res);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async ensureContainer(container) {
    const res = await this.backend('PUT', `/${ACCOUNT}/${container}?restype=container&${accountSas()}`);
    res.resume();
    if (res.statusCode !== 201 && res.statusCode !== 409) throw new Error(`Azurite refused to create container ${container}: HTTP ${res.statusCode}`);
  }

  /** Properties of a blob ({ size, contentType, lastModified }) or null when it does not exist. */
  async blobInfo(container, blob) {
    const res = await this.backend('HEAD', `/${ACCOUNT}/${container}/${blobPath(blob)}?${accountSas()}`);
    res.resume();
    if (res.statusCode === 404) return null;
    if (res.statusCode !== 200) throw new Error(`Azurite answered HTTP ${res.statusCode} for ${blob}`);
    return {
      size: Number(res.headers['content-length']),
      contentType: res.headers['content-type'],
      lastModified: res.headers['last-modified'] ? new Date(res.headers['last-modified']).toISOString() : undefined,
    };
  }

  /** A readable response with a blob's content (status 200), or null when it does not exist. */
  async blobContent(container, blob) {
    const res = await this.backend('GET', `/${ACCOUNT}/${container}/${blobPath(blob)}?${accountSas()}`);
    if (res.statusCode === 404) {
      res.resume();
      return null;
    }
    return res;
  }

  forward(req, res) {
    this.requests++;
    const url = new URL(req.url, 'https://storage');
    const comp = url.searchParams.get('comp');
    const operation = req.method === 'PUT' ? (comp === 'block' ? 'block' : comp === 'blocklist' ? 'blocklist' : 'put') : 'other';
    const deviceId = decodeURIComponent(url.pathname.split('/')[2] || '');
    const stall = this.emu.faults.take('storageStall', { deviceId, operation });
    if (stall) {
      // the request stops moving: nothing read, nothing answered, until the delay passes
      this.emu.wire.add(deviceId || undefined, { svc: this.svc, dir: 'in', type: 'HTTP', method: req.method, operation, reason: `stalled ${stall.delayMs} ms by fault injection` });
      req.pause();
      const timer = setTimeout(() => this.pass(req, res, url, operation, deviceId), stall.delayMs);
      req.socket.once('close', () => clearTimeout(timer));
      return;
    }
    this.pass(req, res, url, operation, deviceId);
  }

  /** Answers a request: the faults that fire here, else Azurite's answer. */
  pass(req, res, url, operation, deviceId) {
    if (this.emu.faults.take('storageDrop', { deviceId, operation })) {
      // the connection breaks in the middle of the request, before any answer
      this.emu.wire.add(deviceId || undefined, { svc: this.svc, dir: 'out', type: 'CLOSED', method: req.method, operation, reason: 'fault injection' });
      return req.socket.destroy();
    }
    const fault = this.emu.faults.take('storageFail', { deviceId, operation });
    if (fault) {
      this.emu.wire.add(deviceId || undefined, { svc: this.svc, dir: 'out', type: 'HTTP', method: req.method, operation, status: fault.status, reason: 'fault injection' });
      req.resume();
      const code = { 500: 'InternalError', 503: 'ServerBusy' }[fault.status] || 'InvalidInput';
      const text = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>Refused by fault injection.</Message></Error>`;
      const headers = { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text) };
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      res.writeHead(fault.status, headers);
      return res.end(text);
    }
    const headers = { ...req.headers };
    delete headers.host;
    const up = http.request({ host: '127.0.0.1', port: this.backendPort, method: req.method, path: `/${ACCOUNT}${url.pathname}${url.search}`, headers, agent: this.agent }, (ures) => {
      if (ures.statusCode >= 400) {
        this.emu.wire.add(deviceId || undefined, { svc: this.svc, dir: 'out', type: 'HTTP', method: req.method, operation, status: ures.statusCode });
      }
      res.writeHead(ures.statusCode, ures.headers);
      ures.pipe(res);
    });
    up.on('error', (err) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`storage back end failed: ${err.message}`);
      } else res.destroy();
    });
    req.on('aborted', () => up.destroy());
    req.pipe(up);
  }

  async close() {
    this.stopped = true;
    if (this.starting) await this.starting.catch(() => {});
    if (this.servers) await unserve(this);
    if (this.agent) this.agent.destroy();
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
  }
}
