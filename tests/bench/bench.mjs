// SPDX-License-Identifier: MIT
// The benchmark driver behind tests/bench/run.sh: starts one emulator, provisions the devices,
// runs every case for iotc, the official Azure IoT Node SDK and raw Paho, interleaved, and prints
// a markdown table of medians (min–max) and, as the very last line, the headline JSON object.
//
//   node tests/bench/bench.mjs --build DIR [--mode full|quick|smoke] [--out FILE]
//                              [--cases telemetry,first,many,callgrind,persist]   (default: all)
//
// Environment: BENCH_EMULATOR (emulator script, default tests/emulator/bin/iotc-emulator.mjs).
import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

function opt(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const mode = opt('--mode', 'full');
const build = path.resolve(opt('--build', path.join(root, 'build-bench')));
const outFile = path.resolve(opt('--out', path.join(build, 'bench-results.json')));
const PLANS = {
  // rounds: interleaved rounds per case; firstRounds: start-to-first-telemetry samples per
  // implementation; steps: K devices per process; windowMs: steady running per step.
  // persistMb: the backlog whose recovery is timed.
  full: { rounds: 5, count: 20000, inflights: [10, 100], firstRounds: 7, steps: [100, 1000], manyRounds: 5, windowMs: 5000, callgrind: [1000, 5000], persistMb: 100 },
  quick: { rounds: 3, count: 2000, inflights: [10, 100], firstRounds: 7, steps: [100], manyRounds: 3, windowMs: 3000, callgrind: [200, 1200], persistMb: 100 },
  smoke: { rounds: 1, count: 200, inflights: [10, 100], firstRounds: 1, steps: [10], manyRounds: 1, windowMs: 500, callgrind: [50, 150], persistMb: 2 },
};
const plan = PLANS[mode];
if (!plan) fatal(`unknown mode ${mode}`);
const CASES = ['telemetry', 'first', 'many', 'callgrind', 'persist'];
const cases = opt('--cases', CASES.join(',')).split(',');
for (const c of cases) if (!CASES.includes(c)) fatal(`unknown case ${c}`);

const IMPLS = ['iotc', 'node', 'paho'];
const NAMES = { iotc: 'iotc', node: 'Node SDK', paho: 'raw Paho' };
const benchBin = path.join(build, 'tests/bench');
const nodeDir = path.join(here, 'node');
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

const children = new Set();
let emulator = null;
let caFile = null;

function fatal(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

function cleanup() {
  for (const c of children) {
    try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  if (emulator) {
    try { process.kill(emulator.pid, 'SIGTERM'); } catch { /* gone */ }
  }
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130));

// ---- processes -------------------------------------------------------------------------------

function procCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime (fields 14 and 15)
  } catch {
    return NaN;
  }
}

// Runs one benchmark program; resolves with its last JSON line plus wall time and emulator CPU.
function runProgram(cmd, args, { env = {}, timeoutMs = 120000 } = {}) {
  return new Promise((resolve) => {
    const emu0 = procCpuSeconds(emulator.pid);
    const startUnixMs = performance.timeOrigin + performance.now();
    const t0 = performance.now();
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; if (stderr.length > 20000) stderr = stderr.slice(-10000); });
    const timer = setTimeout(() => { stderr += `\n(killed after ${timeoutMs} ms)`; child.kill('SIGKILL'); }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const wallS = (performance.now() - t0) / 1000;
      const emuCpuS = procCpuSeconds(emulator.pid) - emu0;
      const lines = stdout.trim().split('\n').filter((l) => l.startsWith('{'));
      let result = null;
      try { result = lines.length ? JSON.parse(lines[lines.length - 1]) : null; } catch { result = null; }
      const ok = code === 0 && result && result.ok === true;
      const error = ok ? null : (result && result.error) || `exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
      resolve({ ok, error, result, wallS, emuCpuS, startUnixMs });
    });
  });
}

function command(impl, program, args) {
  if (impl === 'node') return ['node', [path.join(nodeDir, `${program}.js`), ...args], { NODE_EXTRA_CA_CERTS: caFile }];
  return [path.join(benchBin, `${impl}-${program}`), [...args, '--ca', caFile], {}];
}

async function startEmulator() {
  const script = process.env.BENCH_EMULATOR || path.join(root, 'tests/emulator/bin/iotc-emulator.mjs');
  if (!existsSync(script)) fatal(`emulator not found: ${script}`);
  const child = spawn('node', [script, '--retry-after', '0', '--parent-pid', String(process.pid)], { stdio: ['ignore', 'pipe', 'pipe'] });
  emulator = child;
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  return new Promise((resolve) => {
    let buf = '';
    const timer = setTimeout(() => fatal(`emulator not ready after 30 s: ${err}`), 30000);
    child.on('exit', (code) => fatal(`emulator exited (${code}): ${err}`));
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      const ready = JSON.parse(buf.slice(0, nl));
      if (!ready.ready) fatal(`emulator: ${buf}`);
      resolve(ready);
    });
  });
}

// ---- devices ---------------------------------------------------------------------------------

function deriveKey(groupKey, id) {
  return createHmac('sha256', Buffer.from(groupKey, 'base64')).update(id).digest('base64');
}

function sas(key, resource, skn) {
  const sr = encodeURIComponent(resource);
  const se = Math.floor(Date.now() / 1000) + 3600;
  const sig = encodeURIComponent(createHmac('sha256', Buffer.from(key, 'base64')).update(`${sr}\n${se}`).digest('base64'));
  return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${se}${skn ? `&skn=${skn}` : ''}`;
}

function request(agent, host, method, urlPath, headers, body) {
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    const req = https.request({ agent, hostname, port: Number(port) || 443, method, path: urlPath, headers }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => {
        try { resolve({ status: res.statusCode, headers: res.headers, body: data ? JSON.parse(data) : {} }); } catch (e) { reject(e); }
      });
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// Registers devices with DPS over HTTPS (group enrollment, derived keys); returns [{hub,id,key}].
async function provision(ready, ids) {
  const agent = new https.Agent({ ca: readFileSync(ready.caFile), keepAlive: true, maxSockets: 16 });
  const host = ready.dps.https;
  const scope = ready.idScope;
  const api = 'api-version=2021-06-01';
  const one = async (id) => {
    const key = deriveKey(ready.groupKey, id);
    const headers = { 'content-type': 'application/json', authorization: sas(key, `${scope}/registrations/${id}`, 'registration') };
    const base = `/${scope}/registrations/${encodeURIComponent(id)}`;
    let res = await request(agent, host, 'PUT', `${base}/register?${api}`, headers, JSON.stringify({ registrationId: id }));
    for (let i = 0; i < 50 && res.status === 202; i++) {
      await new Promise((r) => setTimeout(r, Number(res.headers['retry-after'] || 0) * 1000));
      res = await request(agent, host, 'GET', `${base}/operations/${encodeURIComponent(res.body.operationId)}?${api}`, headers);
    }
    const state = res.body.registrationState || res.body;
    if (res.status !== 200 || !state.assignedHub) throw new Error(`provisioning ${id}: ${res.status} ${JSON.stringify(res.body)}`);
    return { hub: state.assignedHub, id: state.deviceId || id, key };
  };
  const out = new Array(ids.length);
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < ids.length) { const i = next++; out[i] = await one(ids[i]); }
  }));
  agent.destroy();
  return out;
}

// ---- statistics ------------------------------------------------------------------------------

function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
function summary(xs) {
  const v = xs.filter((x) => Number.isFinite(x));
  return { median: median(v), min: v.length ? Math.min(...v) : null, max: v.length ? Math.max(...v) : null, n: v.length, samples: v };
}
const ratio = (a, b) => (a == null || b == null || b === 0 ? null : a / b);
const rotate = (arr, n) => arr.map((_, i) => arr[(i + n) % arr.length]);

// ---- cases -----------------------------------------------------------------------------------

const failures = [];
function record(what, impl, run) {
  if (!run.ok) {
    failures.push({ case: what, impl, error: run.error });
    process.stderr.write(`bench: ${what} ${impl}: ${run.error}\n`);
  }
  return run.ok;
}

async function caseTelemetry(devs) {
  const out = {};
  for (const w of plan.inflights) out[w] = Object.fromEntries(IMPLS.map((i) => [i, { throughput: [], cpu_us: [], emulator_share: [], client_share: [] }]));
  for (let r = 0; r < plan.rounds; r++) {
    for (const w of plan.inflights) {
      for (const impl of rotate(IMPLS, r)) {
        const d = devs[impl];
        const [cmd, args, env] = command(impl, 'telemetry', ['--hub', d.hub, '--device', d.id, '--key', d.key, '--count', String(plan.count), '--inflight', String(w)]);
        const run = await runProgram(cmd, args, { env });
        if (!record(`telemetry-${w}`, impl, run)) continue;
        const m = run.result;
        const o = out[w][impl];
        o.throughput.push(m.messages / m.seconds);
        o.cpu_us.push((m.cpu_s / m.messages) * 1e6);
        o.client_share.push(m.cpu_s / m.seconds);
        o.emulator_share.push(run.emuCpuS / run.wallS);
      }
    }
    process.stderr.write(`bench: telemetry round ${r + 1}/${plan.rounds} done\n`);
  }
  for (const w of plan.inflights) for (const impl of IMPLS) for (const k of Object.keys(out[w][impl])) out[w][impl][k] = summary(out[w][impl][k]);
  return out;
}

// Store and forward: iotc telemetry (100 in flight) in memory and through persist_dir with each
// durability setting, interleaved, on fresh directories; then the recovery of a backlog.
const DURABILITIES = ['memory', 'each', 'interval', 'os'];
async function casePersist(d) {
  const w = Math.max(...plan.inflights);
  const out = { inflight: w, throughput: Object.fromEntries(DURABILITIES.map((k) => [k, []])), recover_ms: [], backlog: null };
  for (let r = 0; r < plan.rounds; r++) {
    for (const k of rotate(DURABILITIES, r)) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'iotc-bench-persist-'));
      const extra = k === 'memory' ? [] : ['--persist', path.join(dir, 'q'), '--durability', k];
      const [cmd, args, env] = command('iotc', 'telemetry', ['--hub', d.hub, '--device', d.id, '--key', d.key, '--count', String(plan.count), '--inflight', String(w), ...extra]);
      const run = await runProgram(cmd, args, { env });
      rmSync(dir, { recursive: true, force: true });
      if (!record(`persist-${k}`, 'iotc', run)) continue;
      out.throughput[k].push(run.result.messages / run.result.seconds);
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'iotc-bench-recovery-'));
    const run = await runProgram(path.join(benchBin, 'iotc-persist-recovery'), ['--dir', path.join(dir, 'q'), '--mb', String(plan.persistMb)], { timeoutMs: 600000 });
    rmSync(dir, { recursive: true, force: true });
    if (record('persist-recovery', 'iotc', run)) {
      out.recover_ms.push(run.result.recover_ms);
      out.backlog = { messages: run.result.messages, bytes: run.result.bytes, rss_kib: run.result.rss_kib };
    }
    process.stderr.write(`bench: persist round ${r + 1}/${plan.rounds} done\n`);
  }
  for (const k of DURABILITIES) out.throughput[k] = summary(out.throughput[k]);
  out.recover_ms = summary(out.recover_ms);
  return out;
}

async function caseFirst(ready) {
  const out = Object.fromEntries(IMPLS.map((i) => [i, { ms: [], emulator_cpu_ms: [] }]));
  const dps = ready.dps.mqtt;
  for (let r = 0; r < plan.firstRounds; r++) {
    for (const impl of rotate(IMPLS, r)) {
      const id = `bench-first-${impl}-${process.pid}-${r}`;
      const key = deriveKey(ready.groupKey, id);
      const [cmd, args, env] = command(impl, 'first', ['--dps', dps, '--scope', ready.idScope, '--device', id, '--key', key]);
      const run = await runProgram(cmd, args, { env, timeoutMs: 60000 });
      if (!record('first-telemetry', impl, run)) continue;
      out[impl].ms.push(run.result.acked_unix_ms - run.startUnixMs);
      out[impl].emulator_cpu_ms.push(run.emuCpuS * 1000);
    }
  }
  process.stderr.write('bench: start to first telemetry done\n');
  for (const impl of IMPLS) for (const k of Object.keys(out[impl])) out[impl][k] = summary(out[impl][k]);
  return out;
}

async function caseMany(listFile) {
  const out = {};
  for (const k of plan.steps) out[k] = Object.fromEntries(IMPLS.map((i) => [i, { rss_per_device_kib: [], fixed_mib: [], cpu_share: [], connect_s: [], emulator_share: [] }]));
  const maxK = Math.max(...plan.steps);
  for (let r = 0; r < plan.manyRounds; r++) {
    for (const impl of rotate(IMPLS, r)) {
      const [cmd, args, env] = command(impl, 'many', ['--devices', listFile, '--steps', plan.steps.join(','), '--window-ms', String(plan.windowMs), '--period', '10']);
      const run = await runProgram(cmd, args, { env, timeoutMs: 60000 + maxK * 200 });
      if (!record('many', impl, run)) continue;
      const m = run.result;
      for (const s of m.steps) {
        const o = out[s.k][impl];
        o.rss_per_device_kib.push((s.rss_kib - m.rss0_kib) / s.k);
        o.fixed_mib.push(m.rss0_kib / 1024);
        o.cpu_share.push(s.cpu_s / s.window_s);
        o.connect_s.push(s.connect_s);
      }
      out[maxK][impl].emulator_share.push(run.emuCpuS / run.wallS);
    }
    process.stderr.write(`bench: ${maxK} devices round ${r + 1}/${plan.manyRounds} done\n`);
  }
  for (const k of plan.steps) for (const impl of IMPLS) for (const key of Object.keys(out[k][impl])) out[k][impl][key] = summary(out[k][impl][key]);
  return out;
}

function definedFunctions(files) {
  const names = new Set();
  for (const line of execFileSync('nm', ['--defined-only', ...files]).toString().split('\n')) {
    const m = /^[0-9a-f]+ [tTwW] (\S+)$/.exec(line.trim());
    if (m) names.add(m[1]);
  }
  return names;
}

// Functions defined in libiotc.a (global and static), by name, less any name the benchmark
// programs define themselves (a static function of the same name would be miscounted).
function libiotcFunctions() {
  const own = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.o')) own.push(p);
    }
  };
  walk(path.join(benchBin, 'CMakeFiles'));
  const lib = definedFunctions([path.join(build, 'libiotc.a')]);
  for (const name of definedFunctions(own)) lib.delete(name);
  return lib;
}

// Instructions per function of one callgrind profile: [{ir, fn, object}].
function callgrindFunctions(file) {
  const text = execFileSync('callgrind_annotate', ['--threshold=100', '--inclusive=no', file], { maxBuffer: 64 << 20 }).toString();
  const rows = [];
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+)\s+\([^)]*\)\s+(.*):(\S+?)(?:'\d+)?\s+\[(.*)\]\s*$/.exec(line);
    if (m) rows.push({ ir: Number(m[1].replace(/,/g, '')), fn: m[3], object: m[4] });
  }
  return rows;
}

async function caseCallgrind(dev) {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    process.stderr.write('bench: valgrind not found: no instruction counts\n');
    return null;
  }
  const lib = libiotcFunctions();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iotc-bench-cg-'));
  const measure = async (impl) => {
    const totals = [];
    for (const count of plan.callgrind) {
      const file = path.join(dir, `${impl}-${count}.out`);
      const [cmd, args] = command(impl, 'telemetry', ['--hub', dev[impl].hub, '--device', dev[impl].id, '--key', dev[impl].key, '--count', String(count), '--inflight', '10']);
      const run = await runProgram('valgrind', ['--tool=callgrind', `--callgrind-out-file=${file}`, cmd, ...args], { timeoutMs: 600000 });
      if (!record(`callgrind-${count}`, impl, run)) return null;
      const exe = path.resolve(cmd);
      const rows = callgrindFunctions(file);
      const library = rows.filter((r) => path.resolve(r.object) === exe && lib.has(r.fn)).reduce((a, r) => a + r.ir, 0);
      const total = rows.reduce((a, r) => a + r.ir, 0);
      const top = rows.filter((r) => path.resolve(r.object) === exe && lib.has(r.fn)).sort((a, b) => b.ir - a.ir).slice(0, 12);
      totals.push({ count, library, total, top });
    }
    const [a, b] = totals;
    const n = b.count - a.count;
    return {
      library_per_message: (b.library - a.library) / n,
      process_per_message: (b.total - a.total) / n,
      top_library_functions: b.top.map((t) => ({ fn: t.fn, ir: t.ir })),
      runs: totals.map(({ count, library, total }) => ({ count, library, total })),
    };
  };
  const out = { iotc: await measure('iotc'), paho: await measure('paho') };
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write('bench: callgrind done\n');
  return out;
}

// ---- report ----------------------------------------------------------------------------------

function fmt(v, digits = 0) {
  if (v == null) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
function cell(s, digits = 0, scale = 1) {
  if (!s || s.median == null) return '—';
  if (s.n === 1) return fmt(s.median * scale, digits);
  return `${fmt(s.median * scale, digits)} (${fmt(s.min * scale, digits)}–${fmt(s.max * scale, digits)})`;
}
function r2(v) { return v == null ? '—' : `${v.toFixed(2)}×`; }

function report(results) {
  const rows = [];
  const add = (metric, per, digits, scale, goal) => {
    const med = (i) => (per[i] && per[i].median != null ? per[i].median : null);
    // A smoke run is far too small to compare with the goals: show none.
    const shown = mode === 'smoke' ? '' : goal;
    rows.push(`| ${metric} | ${cell(per.iotc, digits, scale)} | ${cell(per.node, digits, scale)} | ${cell(per.paho, digits, scale)} | ${r2(ratio(med('iotc'), med('node')))} | ${r2(ratio(med('iotc'), med('paho')))} | ${shown} |`);
  };
  const pick = (obj, key) => Object.fromEntries(IMPLS.map((i) => [i, obj[i][key]]));
  const t = results.telemetry;
  const maxK = Math.max(...plan.steps);
  if (t) for (const w of plan.inflights) add(`Telemetry QoS 1, ${w} in flight: msg/s`, pick(t[w], 'throughput'), 0, 1, '≥ 1.0× Node, ≥ 0.9× Paho');
  if (t) for (const w of plan.inflights) add(`Client CPU per message, ${w} in flight: µs`, pick(t[w], 'cpu_us'), 1, 1, '≤ 0.6× Node, ≤ 1.15× Paho');
  if (results.first) add('Start to first telemetry acked: ms', pick(results.first, 'ms'), 0, 1, '≤ 0.6× Node');
  if (results.many) {
    for (const k of plan.steps) add(`Memory per device, ${k} devices: KiB`, pick(results.many[k], 'rss_per_device_kib'), 1, 1, k === maxK ? '≤ 0.6× Node, ≤ 1.15× Paho' : '');
    add('Fixed process overhead (RSS before the first client): MiB', pick(results.many[maxK], 'fixed_mib'), 1, 1, '≤ 10 MiB');
    add(`Connect ${maxK} devices (50 at a time): s`, pick(results.many[maxK], 'connect_s'), 2, 1, '');
    add(`Client CPU with ${maxK} idle devices (1 msg/10 s each): % of a core`, pick(results.many[maxK], 'cpu_share'), 1, 100, '');
  }
  const cg = results.callgrind;
  if (cg) {
    const one = (v) => ({ median: v, min: v, max: v, n: 1 });
    add('Instructions per message inside libiotc (callgrind)', { iotc: one(cg.iotc && cg.iotc.library_per_message), node: null, paho: null }, 0, 1, '≤ 2,000');
    add('Instructions per message, whole client process (callgrind)', { iotc: one(cg.iotc && cg.iotc.process_per_message), node: null, paho: one(cg.paho && cg.paho.process_per_message) }, 0, 1, '');
  }
  if (t) for (const w of plan.inflights) add(`Emulator CPU during telemetry, ${w} in flight: % of a core`, pick(t[w], 'emulator_share'), 0, 100, '');
  if (t) for (const w of plan.inflights) add(`Client CPU during telemetry, ${w} in flight: % of a core`, pick(t[w], 'client_share'), 0, 100, '');
  if (results.first) add('Emulator CPU per start to first telemetry: ms', pick(results.first, 'emulator_cpu_ms'), 0, 1, '');
  if (results.many) add(`Emulator CPU during the ${maxK}-device run: % of a core`, pick(results.many[maxK], 'emulator_share'), 0, 100, '');
  if (results.persist) {
    const p = results.persist;
    const only = (v) => ({ iotc: v, node: null, paho: null });
    const names = { memory: 'in memory', each: 'persist_dir, sync each message', interval: 'persist_dir, sync every 1 s', os: 'persist_dir, OS write-back' };
    for (const k of DURABILITIES) add(`Telemetry QoS 1, ${p.inflight} in flight, ${names[k]}: msg/s`, only(p.throughput[k]), 0, 1, '');
    for (const k of DURABILITIES.slice(1)) {
      const v = ratio(p.throughput[k].median, p.throughput.memory.median);
      add(`  ${names[k]} ÷ in memory`, only({ median: v, min: v, max: v, n: 1 }), 2, 1, k === 'each' ? '' : '≥ 0.5×');
    }
    const b = p.backlog;
    add(`Recovery of a ${plan.persistMb} MiB backlog${b ? ` (${b.messages} messages)` : ''}: ms`, only(p.recover_ms), 0, 1, '');
  }
  return [
    '| metric | iotc | Node SDK | raw Paho | iotc ÷ Node | iotc ÷ Paho | goal |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

function headline(results) {
  const t = results.telemetry;
  const med = (s) => (s && s.median != null ? s.median : null);
  const worst = (vals, pickWorst) => (vals.some((v) => v == null) ? null : pickWorst(...vals));
  const thr = (peer) => t && worst(plan.inflights.map((w) => ratio(med(t[w].iotc.throughput), med(t[w][peer].throughput))), Math.min);
  const cpu = (peer) => t && worst(plan.inflights.map((w) => ratio(med(t[w].iotc.cpu_us), med(t[w][peer].cpu_us))), Math.max);
  const maxK = Math.max(...plan.steps);
  const rss = (impl) => (results.many ? med(results.many[maxK][impl].rss_per_device_kib) : null);
  const round = (v, d = 3) => (v == null ? null : Number(v.toFixed(d)));
  return {
    throughput_qos1_vs_node: round(thr('node')),
    throughput_qos1_vs_paho: round(thr('paho')),
    cpu_per_message_vs_node: round(cpu('node')),
    cpu_per_message_vs_paho: round(cpu('paho')),
    rss_per_device_kib: round(rss('iotc'), 1),
    rss_per_device_vs_node: round(ratio(rss('iotc'), rss('node'))),
    rss_per_device_vs_paho: round(ratio(rss('iotc'), rss('paho'))),
    first_telemetry_vs_node: results.first ? round(ratio(med(results.first.iotc.ms), med(results.first.node.ms))) : null,
    instructions_per_message: results.callgrind && results.callgrind.iotc ? Math.round(results.callgrind.iotc.library_per_message) : null,
  };
}

// ---- main ------------------------------------------------------------------------------------

async function main() {
  const t0 = performance.now();
  for (const impl of ['iotc', 'paho']) {
    for (const p of ['telemetry', 'first', 'many']) {
      if (!existsSync(path.join(benchBin, `${impl}-${p}`))) fatal(`missing ${impl}-${p} in ${benchBin}: build with -DIOTC_BUILD_BENCH=ON`);
    }
  }
  const ready = await startEmulator();
  caFile = ready.caFile;
  process.stderr.write(`bench: emulator ready (pid ${ready.pid}), mode ${mode}\n`);

  const maxK = Math.max(...plan.steps);
  const manyK = cases.includes('many') ? maxK : 0;
  const ids = [...IMPLS.map((i) => `bench-telemetry-${i}`), ...Array.from({ length: manyK }, (_, i) => `bench-many-${String(i).padStart(4, '0')}`)];
  const devs = await provision(ready, ids);
  const tel = Object.fromEntries(IMPLS.map((i, n) => [i, devs[n]]));
  const listDir = mkdtempSync(path.join(os.tmpdir(), 'iotc-bench-'));
  const listFile = path.join(listDir, 'devices.txt');
  writeFileSync(listFile, devs.slice(IMPLS.length).map((d) => `${d.hub} ${d.id} ${d.key}`).join('\n') + '\n');
  process.stderr.write(`bench: ${devs.length} devices provisioned\n`);

  // Warm-up: the emulator's JIT, the page cache, each program once.
  for (const impl of IMPLS) {
    const d = tel[impl];
    const [cmd, args, env] = command(impl, 'telemetry', ['--hub', d.hub, '--device', d.id, '--key', d.key, '--count', String(Math.min(plan.count, 2000)), '--inflight', '100']);
    record('warm-up', impl, await runProgram(cmd, args, { env }));
  }

  const results = { mode, plan, machine: { cpus: os.cpus().length, model: os.cpus()[0] && os.cpus()[0].model, memory_gib: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(), node: process.version } };
  if (cases.includes('telemetry')) results.telemetry = await caseTelemetry(tel);
  if (cases.includes('first')) results.first = await caseFirst(ready);
  if (cases.includes('many')) results.many = await caseMany(listFile);
  if (cases.includes('callgrind')) results.callgrind = await caseCallgrind(tel);
  if (cases.includes('persist')) results.persist = await casePersist(tel.iotc);
  rmSync(listDir, { recursive: true, force: true });
  results.failures = failures;
  results.seconds = (performance.now() - t0) / 1000;
  results.headline = headline(results);
  writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');

  process.stdout.write(`\n${report(results)}\n\n`);
  process.stdout.write(`Medians of ${plan.rounds} interleaved rounds (start to first telemetry: ${plan.firstRounds}; devices: ${plan.manyRounds}), min–max in brackets; ${mode} mode, ${results.seconds.toFixed(0)} s. Full results: ${outFile}\n`);
  if (failures.length) process.stdout.write(`${failures.length} run(s) failed; see ${outFile}\n`);
  if (mode === 'smoke') process.stdout.write('Smoke run: it checks only that every program runs; its figures are not compared with the goals.\n');
  process.stdout.write(JSON.stringify(results.headline) + '\n');
  process.exit(failures.length ? 1 : 0);
}

main().catch((e) => fatal(e.stack || e));
