// SPDX-License-Identifier: MIT
// Checks a TLS client certificate against CAs registered on enrollment groups (or a device's own
// certificate). The TLS servers request a certificate but accept any, so the decision, and its reason,
// is made here per device.
import { X509Certificate } from 'node:crypto';

export function parsePem(pem) {
  try {
    return new X509Certificate(pem);
  } catch {
    return null;
  }
}

/** Accepts a PEM string or bare base64 DER (IoT Central's API carries the latter). */
export function toCert(text) {
  if (typeof text !== 'string' || text.length === 0 || text.length > 65536) return null;
  if (text.includes('-----BEGIN')) return parsePem(text);
  try {
    return new X509Certificate(Buffer.from(text.replace(/\s+/g, ''), 'base64'));
  } catch {
    return null;
  }
}

export function commonName(cert) {
  const m = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject);
  return m ? m[1] : null;
}

function inValidity(cert, now) {
  return Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
}

/** The peer's chain as X509Certificate objects, leaf first; [] without a client certificate. */
export function peerChain(socket) {
  if (!socket || typeof socket.getPeerCertificate !== 'function') return [];
  let detail;
  try {
    detail = socket.getPeerCertificate(true);
  } catch {
    return [];
  }
  const out = [];
  const seen = new Set();
  while (detail && detail.raw && out.length < 8) {
    const fp = detail.fingerprint256;
    if (seen.has(fp)) break;
    seen.add(fp);
    try {
      out.push(new X509Certificate(detail.raw));
    } catch {
      break;
    }
    detail = detail.issuerCertificate;
  }
  return out;
}

/**
 * Whether chain[0] is signed, directly or through intermediates in the chain, by one of the trusted
 * certificates. Returns the trusted certificate that anchors it, or null.
 */
export function anchorOf(chain, trusted, now = Date.now()) {
  if (chain.length === 0) return null;
  let current = chain[0];
  if (!inValidity(current, now)) return null;
  for (let depth = 0; depth < 6; depth++) {
    for (const ca of trusted) {
      if (ca.fingerprint256 === current.fingerprint256 && depth > 0) return ca;
      if (current.checkIssued(ca) && safeVerify(current, ca) && inValidity(ca, now)) return ca;
    }
    const next = chain.find((c) => c !== current && current.checkIssued(c) && safeVerify(current, c));
    if (!next || !next.ca || !inValidity(next, now)) return null;
    current = next;
  }
  return null;
}

function safeVerify(cert, issuer) {
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}
