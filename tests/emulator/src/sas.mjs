// SPDX-License-Identifier: MIT
// Shared access signatures as IoT Hub and DPS check them. The signature is computed over `sr` exactly as
// it appears in the token: clients encode the resource differently (upper- or lower-case escapes, or not
// at all), and each signs what it sends.
import crypto from 'node:crypto';
import { decode } from './topics.mjs';

/** Parses `SharedAccessSignature sr=..&sig=..&se=..[&skn=..]`; null when it is not one. */
export function parseSas(token) {
  if (typeof token !== 'string') return null;
  const m = /^SharedAccessSignature\s+(.*)$/.exec(token.trim());
  if (!m) return null;
  const fields = {};
  for (const pair of m[1].split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return null;
    const k = pair.slice(0, eq);
    if (k in fields) return null;
    fields[k] = pair.slice(eq + 1);
  }
  if (!fields.sr || !fields.sig || !fields.se) return null;
  if (!/^\d{1,12}$/.test(fields.se)) return null;
  return {
    srRaw: fields.sr,
    resource: decode(fields.sr),
    sig: decode(fields.sig),
    se: Number(fields.se),
    seRaw: fields.se,
    skn: fields.skn === undefined ? undefined : decode(fields.skn),
  };
}

export function hmacBase64(keyBase64, text) {
  return crypto.createHmac('sha256', Buffer.from(keyBase64, 'base64')).update(text, 'utf8').digest('base64');
}

/** IoT Central's group scheme: base64(HMAC-SHA256(base64decode(groupKey), registrationId)). */
export function deriveKey(groupKeyBase64, registrationId) {
  return hmacBase64(groupKeyBase64, registrationId);
}

export function randomKey() {
  return crypto.randomBytes(64).toString('base64');
}

/**
 * Verifies a parsed token against the expected resources (compared decoded and case-insensitively) and a
 * list of candidate keys. Returns {ok:true, key} or {ok:false, reason}.
 */
export function verifySas(sas, expectedResources, keys, nowSeconds = Date.now() / 1000) {
  if (!sas) return { ok: false, reason: 'not a shared access signature' };
  const res = sas.resource.toLowerCase();
  if (!expectedResources.some((r) => r.toLowerCase() === res)) {
    return { ok: false, reason: 'token resource does not match' };
  }
  if (sas.se <= nowSeconds) return { ok: false, reason: 'token expired' };
  let given;
  try {
    given = Buffer.from(sas.sig, 'base64');
  } catch {
    return { ok: false, reason: 'bad signature encoding' };
  }
  for (const key of keys) {
    if (!key) continue;
    const want = Buffer.from(hmacBase64(key, sas.srRaw + '\n' + sas.seRaw), 'base64');
    if (want.length === given.length && crypto.timingSafeEqual(want, given)) return { ok: true, key };
  }
  return { ok: false, reason: 'signature does not match' };
}

/** Builds a token (used by tests and by the throughput client). */
export function buildSas(resource, keyBase64, expirySeconds, skn) {
  const sr = encodeURIComponent(resource);
  const sig = hmacBase64(keyBase64, sr + '\n' + expirySeconds);
  let t = `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${expirySeconds}`;
  if (skn) t += `&skn=${encodeURIComponent(skn)}`;
  return t;
}

/** Redacts the signature so a token can be logged. */
export function redactSas(token) {
  if (typeof token !== 'string') return token;
  return token.replace(/sig=[^&]*/g, 'sig=<redacted>');
}
