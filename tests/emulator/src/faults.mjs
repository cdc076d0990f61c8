// SPDX-License-Identifier: MIT
// Fault injection: operator-defined misbehaviour that the brokers consult at the points where a real
// service can fail. Every fault has a kind, an optional device filter and a count of remaining uses.
import crypto from 'node:crypto';

export const FAULT_KINDS = {
  refuseConnect: { service: ['hub', 'dps', 'any'], defaults: { service: 'hub', returnCode: 3 } },
  twinThrottle: { operation: ['reported', 'get', 'any'], defaults: { operation: 'reported', status: 429 } },
  dropTwinResponse: { operation: ['reported', 'get', 'any'], defaults: { operation: 'any' } },
  malformedTwin: { operation: ['reported', 'get', 'desired', 'any'], defaults: { operation: 'get', status: 200, body: '{"desired":{"$version":1},"reported":' } },
  delayMethod: { defaults: { delayMs: 1000 } },
  dpsThrottle: { operation: ['register', 'poll', 'any'], transport: ['mqtt', 'https', 'any'], defaults: { status: 429, retryAfter: 1, operation: 'any', transport: 'any' } },
  assignAfterPolls: { transport: ['mqtt', 'https', 'any'], defaults: { polls: 2, transport: 'any' } },
  dpsFail: { transport: ['mqtt', 'https', 'any'], defaults: { status: 'failed', errorCode: 400209, errorMessage: 'Custom allocation failed.', transport: 'any' } },
  malformedDps: { operation: ['register', 'poll', 'any'], transport: ['mqtt', 'https', 'any'], defaults: { operation: 'poll', transport: 'any', status: 200, body: '{"operationId":"x","status":"assigned","registrationState":' } },
  closeEvery: { service: ['hub', 'dps', 'any'], defaults: { service: 'hub', seconds: 5 } },
  dpsDateSkew: { defaults: { skewSeconds: -3600 } },
  storageFail: { operation: ['put', 'block', 'blocklist', 'other', 'any'], defaults: { operation: 'any', status: 503 } },
  storageStall: { operation: ['put', 'block', 'blocklist', 'other', 'any'], defaults: { operation: 'any', delayMs: 30000 } },
  storageDrop: { operation: ['put', 'block', 'blocklist', 'other', 'any'], defaults: { operation: 'any' } },
  sasExpiry: { defaults: { seconds: 2 } },
  notifyFail: { defaults: { status: 500 } },
  uploadNotConfigured: { defaults: {} },
  // The MQTT/TLS listeners (8883) refuse (RST) or black-hole connections; MQTT over WebSockets still works.
  blockMqtt: { service: ['hub', 'dps', 'any'], mode: ['refuse', 'blackhole'], defaults: { service: 'any', mode: 'refuse' } },
  wsUpgradeRefused: { service: ['hub', 'dps', 'any'], defaults: { service: 'any', status: 403 } },
};

export class FaultError extends Error {}

export class Faults {
  constructor() {
    this.list = [];
    this.onAdd = null;
    this.onRemove = null;
  }

  /** Validates and stores a fault; throws FaultError with a message for bad input. */
  add(spec) {
    if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw new FaultError('body must be a JSON object');
    const kind = FAULT_KINDS[spec.kind];
    if (!kind) throw new FaultError(`unknown fault kind; known kinds: ${Object.keys(FAULT_KINDS).join(', ')}`);
    const f = { ...kind.defaults, ...spec };
    for (const key of ['service', 'operation', 'transport', 'mode']) {
      if (kind[key] && !kind[key].includes(f[key])) throw new FaultError(`${key} must be one of ${kind[key].join(', ')}`);
    }
    if (f.deviceId !== undefined && typeof f.deviceId !== 'string') throw new FaultError('deviceId must be a string');
    const count = f.count === undefined ? (spec.kind === 'closeEvery' || spec.kind === 'blockMqtt' ? null : 1) : f.count;
    if (count !== null && (!Number.isInteger(count) || count < 1)) throw new FaultError('count must be a positive integer');
    f.count = count;
    const num = (k, lo, hi) => {
      if (f[k] !== undefined && (typeof f[k] !== 'number' || !Number.isFinite(f[k]) || f[k] < lo || f[k] > hi)) {
        throw new FaultError(`${k} must be a number from ${lo} to ${hi}`);
      }
    };
    num('returnCode', 1, 5);
    num('retryAfter', 0, 3600);
    num('polls', 0, 1000);
    num('delayMs', 0, 600000);
    num('seconds', 0.05, 86400);
    num('errorCode', 0, 999999);
    num('skewSeconds', -1e9, 1e9);
    if (['twinThrottle', 'wsUpgradeRefused', 'dpsThrottle', 'malformedTwin', 'malformedDps', 'storageFail', 'notifyFail'].includes(spec.kind)) {
      num('status', 100, 599);
      if (!Number.isInteger(f.status)) throw new FaultError('status must be an integer');
    }
    if (f.returnCode !== undefined && !Number.isInteger(f.returnCode)) throw new FaultError('returnCode must be an integer');
    if (spec.kind === 'dpsFail' && !['failed', 'disabled'].includes(f.status)) throw new FaultError('status must be failed or disabled');
    if (f.body !== undefined && typeof f.body !== 'string') throw new FaultError('body must be a string (sent as is)');
    f.id = crypto.randomUUID();
    f.created = new Date().toISOString();
    this.list.push(f);
    if (this.onAdd) this.onAdd(f);
    return f;
  }

  /** Finds a matching fault and uses it up once. ctx holds deviceId, service, operation, transport. */
  take(kindName, ctx = {}) {
    for (const f of this.list) {
      if (f.kind !== kindName) continue;
      if (f.deviceId !== undefined && f.deviceId !== ctx.deviceId) continue;
      if (ctx.service && f.service && f.service !== 'any' && f.service !== ctx.service) continue;
      if (ctx.operation && f.operation && f.operation !== 'any' && f.operation !== ctx.operation) continue;
      if (ctx.transport && f.transport && f.transport !== 'any' && f.transport !== ctx.transport) continue;
      if (f.count !== null) {
        f.count--;
        if (f.count <= 0) this.remove(f.id);
      }
      return f;
    }
    return null;
  }

  remove(id) {
    const i = this.list.findIndex((f) => f.id === id);
    if (i < 0) return false;
    const [f] = this.list.splice(i, 1);
    if (this.onRemove) this.onRemove(f);
    return true;
  }

  clear() {
    for (const f of [...this.list]) this.remove(f.id);
  }
}
