// SPDX-License-Identifier: MIT
// Test certificates made with the openssl CLI: a root CA, a server certificate for localhost (or the
// names asked for), and a device CA that signs X.509 device certificates on request.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';

export const DEFAULT_SERVER_NAMES = ['localhost', '127.0.0.1', '::1'];
const MAX_SERVER_NAMES = 16;
const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Why a list of server names (DNS names and IP addresses) cannot go into a certificate, or null. */
export function serverNamesError(names) {
  if (!Array.isArray(names) || names.length === 0) return 'server names must be a non-empty list';
  if (names.length > MAX_SERVER_NAMES) return `at most ${MAX_SERVER_NAMES} server names`;
  for (const n of names) {
    if (typeof n !== 'string') return 'server names must be strings';
    if (net.isIP(n)) {
      if (n.includes('%')) return `${n}: an IP address with a zone cannot go into a certificate`;
      continue;
    }
    // Shorthand like 127.1 is no IP address to a certificate: refuse it rather than make a DNS name.
    if (/^[0-9.]+$/.test(n)) return `${n} is not an IP address`;
    if (!DNS_NAME.test(n)) return `${n} is neither a DNS name nor an IP address`;
  }
  if (new Set(names.map((n) => n.toLowerCase())).size !== names.length) return 'server names repeat';
  return null;
}

/** Whether the certificate names exactly these hosts in its subjectAltName. */
function carriesExactly(pem, names) {
  const cert = new crypto.X509Certificate(pem);
  const sans = cert.subjectAltName ? cert.subjectAltName.split(', ') : [];
  if (sans.length !== names.length) return false;
  return names.every((n) => (net.isIP(n) ? cert.checkIP(n) !== undefined
    : cert.checkHost(n, { subject: 'never', wildcards: false }) !== undefined));
}

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function exists(dir, names) {
  return names.every((n) => fs.existsSync(path.join(dir, n)));
}

const CA_FILES = ['ca.pem', 'ca-key.pem'];
const SERVER_FILES = ['server.pem', 'server-key.pem'];
const DEVICE_CA_FILES = ['device-ca.pem', 'device-ca-key.pem'];

/**
 * Makes (or reuses) the certificates in dir; returns their PEM text and paths. The server certificate
 * names serverNames (default: localhost, 127.0.0.1, ::1; its CN is the first). The root CA is kept
 * across runs (clients trust its file); a server certificate that names other hosts is issued anew.
 */
export function ensureCerts(dir, { serverNames } = {}) {
  const names = serverNames || DEFAULT_SERVER_NAMES;
  const bad = serverNamesError(names);
  if (bad) throw new Error(bad);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!exists(dir, CA_FILES)) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem',
      '-days', '825', '-subj', '/CN=iotc emulator test root CA', '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
    for (const f of SERVER_FILES) fs.rmSync(path.join(dir, f), { force: true });
  }
  if (!exists(dir, SERVER_FILES) || !carriesExactly(fs.readFileSync(path.join(dir, 'server.pem'), 'utf8'), names)) {
    const san = names.map((n) => (net.isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    fs.writeFileSync(path.join(dir, 'server.ext'),
      'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' +
      `subjectAltName=${san}\n`);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server-key.pem', '-out', 'server.csr',
      '-subj', `/CN=${names[0]}`], dir);
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-set_serial',
      '0x' + crypto.randomBytes(12).toString('hex'), '-out', 'server.pem', '-days', '825', '-extfile', 'server.ext'], dir);
  }
  if (!exists(dir, DEVICE_CA_FILES)) {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', 'device-ca-key.pem', '-out', 'device-ca.pem', '-days', '825', '-subj', '/CN=iotc emulator device CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  }
  const read = (n) => fs.readFileSync(path.join(dir, n), 'utf8');
  return {
    dir,
    caFile: path.join(dir, 'ca.pem'),
    ca: read('ca.pem'),
    cert: read('server.pem'),
    key: read('server-key.pem'),
    deviceCaFile: path.join(dir, 'device-ca.pem'),
    deviceCa: read('device-ca.pem'),
  };
}

/** Issues a device certificate with CN = registrationId, signed by the device CA (or a CA given in PEM). */
export function issueDeviceCert(certDir, registrationId, { days = 30, caCertFile, caKeyFile } = {}) {
  const work = fs.mkdtempSync(path.join(certDir, 'dev-'));
  try {
    const ext = path.join(work, 'client.ext');
    fs.writeFileSync(ext, 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n');
    const subj = '/CN=' + registrationId.replace(/[/\\=+,]/g, (c) => '\\' + c);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem',
      '-out', 'req.csr', '-subj', subj], work);
    openssl(['x509', '-req', '-in', 'req.csr', '-CA', caCertFile || path.join(certDir, 'device-ca.pem'),
      '-CAkey', caKeyFile || path.join(certDir, 'device-ca-key.pem'), '-set_serial',
      '0x' + crypto.randomBytes(12).toString('hex'), '-out', 'cert.pem', '-days', String(days), '-extfile', ext], work);
    return {
      cert: fs.readFileSync(path.join(work, 'cert.pem'), 'utf8'),
      key: fs.readFileSync(path.join(work, 'key.pem'), 'utf8'),
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
