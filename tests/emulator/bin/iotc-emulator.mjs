#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Starts the emulator and prints one JSON ready line on stdout; everything else goes to stderr.
import fs from 'node:fs';
import { startEmulator, PORT_MODES } from '../src/emulator.mjs';
import { serverNamesError } from '../src/certs.mjs';

const USAGE = `usage: iotc-emulator [OPTION]...
A local stand-in for Azure IoT Central: DPS (MQTT and HTTPS), two IoT hubs and the operator API, on
loopback only. Prints one JSON line on stdout when ready (ports, names, CA file, ID scope, group key);
logs one line per connection, disconnect and refusal on stderr. Stops on SIGTERM or SIGINT.
Open the API's URL ("api" in that line) in a browser for the operator dashboard.

  --ports MODE           where the services listen:
                           ephemeral (default)  free ports on 127.0.0.1 and ::1, named localhost:PORT;
                           fixed                the same names on ports 8882 (DPS MQTT), 8443 (DPS HTTPS),
                                                8883 and 8884 (hubs), 8480 (API);
                           standard             like the cloud: DPS on 127.X.Y.1 (MQTT 8883, HTTPS 443),
                                                hubs on 127.X.Y.2 and 127.X.Y.3 port 8883, and DPS assigns
                                                the bare address with no port, as it assigns a host name
  --address-block 127.X.Y  the address block of standard mode (default: a random free one)
  --config FILE          JSON with any of: ports, addressBlock, idScope, groupKey, certDir, stateDir,
                         serverNames, retryAfter, portNumbers, devices, enrollmentGroups, deviceTemplates
  --id-scope SCOPE       the ID scope DPS answers to (default: a random 0ne... one)
  --cert-dir DIR         keep the test CA and certificates here (default: a temporary folder)
  --state-dir DIR        keep devices, twins, templates and certificates here across restarts
  --server-names N,...   the DNS names and IP addresses the server certificate names
                         (default: localhost,127.0.0.1,::1; standard mode adds its addresses)
  --retry-after SECONDS  the retry-after DPS sends while assigning (default 1)
  --parent-pid PID       exit when this process ends
  --retain-messages N    keep each device's last N telemetry messages for the operator API
                         (default 1000, with at most 8 MiB of them; more N allows N KiB)
  --verbose              also log every packet and request (passwords redacted)
  --quiet                log nothing but errors
  -h, --help             show this help and exit`;

function fail(message) {
  process.stderr.write(`iotc-emulator: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {};
  const flags = {
    '--config': 'config', '--ports': 'ports', '--id-scope': 'idScope', '--cert-dir': 'certDir',
    '--state-dir': 'stateDir', '--parent-pid': 'parentPid', '--retry-after': 'retryAfter',
    '--server-names': 'serverNames', '--address-block': 'addressBlock',
    '--retain-messages': 'retainMessages',
  };
  const switches = { '--verbose': ['verbosity', 2], '--quiet': ['verbosity', 0] };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    }
    if (switches[arg] && value === undefined) {
      opts[switches[arg][0]] = switches[arg][1];
      continue;
    }
    const key = flags[arg];
    if (!key) fail(`unknown argument ${arg}`);
    if (value === undefined) {
      if (i + 1 >= argv.length) fail(`${arg} needs a value`);
      value = argv[++i];
    }
    opts[key] = value;
  }
  return opts;
}

const args = parseArgs(process.argv.slice(2));
let opts = {};
if (args.config) {
  try {
    opts = JSON.parse(fs.readFileSync(args.config, 'utf8'));
  } catch (err) {
    fail(`cannot read config ${args.config}: ${err.message}`);
  }
  if (!opts || typeof opts !== 'object' || Array.isArray(opts)) fail('config must be a JSON object');
}
for (const k of ['ports', 'idScope', 'certDir', 'stateDir', 'addressBlock', 'verbosity']) if (args[k] !== undefined) opts[k] = args[k];
if (opts.ports !== undefined && !PORT_MODES.includes(opts.ports)) fail(`--ports must be one of ${PORT_MODES.join(', ')}`);
if (opts.addressBlock !== undefined && opts.ports !== 'standard') fail('--address-block needs --ports standard');
if (opts.idScope !== undefined && !/^[A-Za-z0-9]{1,64}$/.test(opts.idScope)) fail('--id-scope must be letters and digits');
if (args.retryAfter !== undefined) opts.retryAfter = Number(args.retryAfter);
if (opts.retryAfter !== undefined && (!Number.isInteger(opts.retryAfter) || opts.retryAfter < 0 || opts.retryAfter > 3600)) {
  fail('--retry-after must be whole seconds from 0 to 3600');
}
if (args.serverNames !== undefined) opts.serverNames = args.serverNames.split(',');
if (opts.serverNames !== undefined) {
  const bad = serverNamesError(opts.serverNames);
  if (bad) fail(`bad server names: ${bad}`);
}
if (args.retainMessages !== undefined) {
  const n = Number(args.retainMessages);
  if (!Number.isInteger(n) || n < 1 || n > 10000000) fail('--retain-messages must be a whole number from 1 to 10000000');
  opts.retention = { ...(opts.retention || {}), messages: n, messageBytes: Math.max(8 * 1024 * 1024, n * 1024) };
}
let parentPid = null;
if (args.parentPid !== undefined) {
  parentPid = Number(args.parentPid);
  if (!Number.isInteger(parentPid) || parentPid <= 0) fail('--parent-pid must be a process id');
}

let emu;
let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  // Never take longer than a second, whatever is still open.
  setTimeout(() => process.exit(code), 800).unref();
  try {
    if (emu) await emu.stop();
  } catch (err) {
    process.stderr.write(`iotc-emulator: ${err.message}\n`);
  }
  process.exit(code);
}
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
process.on('SIGHUP', () => shutdown(0));
// A fault in one connection's handling must not take the emulator down for everyone else.
process.on('uncaughtException', (err) => process.stderr.write(`iotc-emulator: uncaught: ${err.stack}\n`));
process.on('unhandledRejection', (err) => process.stderr.write(`iotc-emulator: unhandled: ${err && err.stack}\n`));

if (parentPid) {
  setInterval(() => {
    try {
      process.kill(parentPid, 0);
    } catch (err) {
      if (err.code === 'ESRCH') shutdown(0);
    }
  }, 250).unref();
}

try {
  emu = await startEmulator(opts);
} catch (err) {
  process.stderr.write(`iotc-emulator: cannot start: ${err.message}\n`);
  process.exit(1);
}
if (stopping) process.exit(0);
process.stdout.write(JSON.stringify(emu.info()) + '\n');
