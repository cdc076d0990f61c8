#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Starts the emulator and prints one JSON ready line on stdout; everything else goes to stderr.
import fs from 'node:fs';
import { startEmulator } from '../src/emulator.mjs';
import { serverNamesError } from '../src/certs.mjs';

const USAGE = `usage: iotc-emulator [--config FILE] [--ports ephemeral|fixed] [--id-scope SCOPE] [--cert-dir DIR]
                     [--state-dir DIR] [--parent-pid PID] [--retry-after SECONDS]
                     [--server-names NAME,...]`;

function fail(message) {
  process.stderr.write(`iotc-emulator: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {};
  const flags = {
    '--config': 'config', '--ports': 'ports', '--id-scope': 'idScope', '--cert-dir': 'certDir',
    '--state-dir': 'stateDir', '--parent-pid': 'parentPid', '--retry-after': 'retryAfter',
    '--server-names': 'serverNames',
  };
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
for (const k of ['ports', 'idScope', 'certDir', 'stateDir']) if (args[k] !== undefined) opts[k] = args[k];
if (opts.ports !== undefined && !['ephemeral', 'fixed'].includes(opts.ports)) fail('--ports must be ephemeral or fixed');
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
