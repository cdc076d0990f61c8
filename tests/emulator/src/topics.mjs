// SPDX-License-Identifier: MIT
// Topic helpers shared by the hub and DPS brokers: query strings, property bags, filter matching.

/** Decodes a percent-encoded component; returns the raw text when it is not valid encoding. */
export function decode(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Encodes like azure-sdk-for-c: everything but A-Z a-z 0-9 - _ . ~ becomes %XX (upper case). */
export function encode(s) {
  return encodeURIComponent(String(s)).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * Parses `a=1&b&c=` into an object of decoded keys to decoded values. A key without `=` maps to null,
 * as IoT Hub writes null-valued properties. Later duplicates win.
 */
export function parseBag(text) {
  const out = {};
  if (!text) return out;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 0) out[decode(pair)] = null;
    else out[decode(pair.slice(0, eq))] = decode(pair.slice(eq + 1));
  }
  return out;
}

/** Builds a property bag from an object; null values become a bare key. */
export function buildBag(props) {
  const parts = [];
  for (const [k, v] of Object.entries(props)) {
    parts.push(v === null || v === undefined ? encode(k) : encode(k) + '=' + encode(v));
  }
  return parts.join('&');
}

/** MQTT topic filter matching (+ and #), with the rule that wildcards never match a leading `$`. */
export function filterMatches(filter, topic) {
  if (filter === topic) return true;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const part = f[i];
    if (part === '#') return !(i === 0 && topic.startsWith('$'));
    if (i >= t.length) return false;
    if (part === '+') {
      if (i === 0 && t[0].startsWith('$')) return false;
      continue;
    }
    if (part !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Whether an aedes client holds a subscription whose filter matches the topic. */
export function isSubscribed(client, topic) {
  const subs = client && client.subscriptions;
  if (!subs) return false;
  for (const filter in subs) {
    if (filterMatches(filter, topic)) return true;
  }
  return false;
}

/** Splits `prefix/?query` after the given prefix; returns the parsed query or null when the prefix does not match. */
export function queryAfter(topic, prefix) {
  if (!topic.startsWith(prefix)) return null;
  return parseBag(topic.slice(prefix.length));
}

/** IoT Hub device ids: up to 128 of letters, digits and - . % _ # * ? ! ( ) , : = @ $ ' */
const DEVICE_ID = /^[A-Za-z0-9\-.%_#*?!(),:=@$']{1,128}$/;
export function validDeviceId(id) {
  return typeof id === 'string' && DEVICE_ID.test(id);
}
