// Test certificates made with the openssl CLI: a root CA, a server certificate for localhost, and a
// device CA that signs X.509 device certificates on request.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function exists(dir, names) {
  return names.every((n) => fs.existsSync(path.join(dir, n)));
}

const SERVER_FILES = ['ca.pem', 'server.pem', 'server-key.pem'];
const DEVICE_CA_FILES = ['device-ca.pem', 'device-ca-key.pem'];

/** Makes (or reuses) the certificates in dir; returns their PEM text and paths. */
export function ensureCerts(dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!exists(dir, SERVER_FILES)) {
    fs.writeFileSync(path.join(dir, 'server.ext'),
      'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' +
      'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n');
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem',
      '-days', '825', '-subj', '/CN=iotc emulator test root CA', '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server-key.pem', '-out', 'server.csr',
      '-subj', '/CN=localhost'], dir);
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial',
      '-out', 'server.pem', '-days', '825', '-extfile', 'server.ext'], dir);
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
