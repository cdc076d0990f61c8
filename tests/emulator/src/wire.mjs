// SPDX-License-Identifier: MIT
// The wire log: every CONNECT (password redacted), CONNACK, SUBSCRIBE, PUBLISH (both directions),
// disconnect and DPS HTTP request. Entries are kept per device in bounded rings and only turned into JSON
// when asked for, so logging costs little per message.
import { Ring } from './ring.mjs';

const ANON = '\0anonymous';

export class WireLog {
  constructor({ perDevice = 2000, anonymous = 5000, maxDevices = 10000, payloadBytes = 512 } = {}) {
    this.perDevice = perDevice;
    this.maxDevices = maxDevices;
    this.payloadBytes = payloadBytes;
    this.seq = 0;
    this.rings = new Map([[ANON, new Ring(anonymous)]]);
  }

  ring(id) {
    if (typeof id !== 'string' || id === '') return this.rings.get(ANON);
    let r = this.rings.get(id);
    if (!r) {
      if (this.rings.size >= this.maxDevices) return this.rings.get(ANON);
      r = new Ring(this.perDevice);
      this.rings.set(id, r);
    }
    return r;
  }

  /** Records an entry. `payload` (a Buffer) is copied up to payloadBytes. */
  add(id, entry, payload) {
    entry.seq = ++this.seq;
    entry.t = Date.now();
    entry.id = id;
    if (payload !== undefined) {
      const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(String(payload));
      entry.size = buf.length;
      entry.payload = buf.length <= this.payloadBytes ? Buffer.from(buf) : Buffer.from(buf.subarray(0, this.payloadBytes));
    }
    this.ring(id).push(entry);
    if (this.onEntry) this.onEntry(entry);
    return entry;
  }

  /** Entries after `since`, oldest first, optionally for one device only. */
  since(since, { deviceId, limit = 1000 } = {}) {
    let list;
    if (deviceId !== undefined) {
      const r = this.rings.get(deviceId);
      list = r ? r.since(since, limit) : [];
    } else {
      list = [];
      for (const r of this.rings.values()) list.push(...r.since(since, limit));
      list.sort((a, b) => a.seq - b.seq);
      if (list.length > limit) list.length = limit;
    }
    return list.map(renderEntry);
  }
}

/** An entry as the operator API and the dashboard show it (the payload as text or base64). */
export function renderEntry(e) {
  const out = { seq: e.seq, time: new Date(e.t).toISOString() };
  for (const [k, v] of Object.entries(e)) {
    if (k === 'seq' || k === 't' || k === '_size' || k === 'payload' || k === 'id') continue;
    out[k] = v;
  }
  if (e.id !== undefined) out.clientId = e.id;
  if (e.payload) {
    const text = e.payload.toString('utf8');
    if (Buffer.byteLength(text) === e.payload.length || e.size > e.payload.length) out.payload = text;
    else out.payloadBase64 = e.payload.toString('base64');
    if (e.size > e.payload.length) out.truncated = true;
  }
  return out;
}
