// SPDX-License-Identifier: MIT
// The benchmark driver behind tests/bench/run.sh: starts one emulator, provisions the devices,
// runs every case for iotc, the official Azure IoT Node SDK and raw Paho, interleaved, and prints
// a markdown table of medians (min–max) and, as the very last line, the headline JSON object.
//
//   node tests/bench/bench.mjs --build DIR [--mode full|quick|smoke] [--out FILE]
//                              [--cases telemetry,first,timeline,many,callgrind,persist,upload]
//                              (default: all)
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
  // rounds: interleaved rounds per case; warmup: untimed messages each telemetry process sends
  // before its timed batch; firstRounds: start-to-first-telemetry samples per implementation
  // (cold, and iotc's warm start); timelineRounds: traced starts per implementation (separate
  // from the timed ones: tracing costs time); steps: K devices per process; windowMs: steady
  // running per step.
  // persistMb: the backlog whose recovery is timed; uploadMib: the file upload's size;
  // uploadRounds: its rounds; uploadWindow: seconds of telemetry at 1,000 msg/s without an
  // upload, before the same during one.
  full: { rounds: 7, count: 20000, warmup: 5000, inflights: [10, 100], firstRounds: 9, timelineRounds: 5, steps: [100, 1000], manyRounds: 5, windowMs: 5000, callgrind: [1000, 5000], persistMb: 100, uploadMib: 256, uploadRounds: 3, uploadWindow: 5 },
  quick: { rounds: 3, count: 2000, warmup: 1000, inflights: [10, 100], firstRounds: 7, timelineRounds: 3, steps: [100], manyRounds: 3, windowMs: 3000, callgrind: [200, 1200], persistMb: 100, uploadMib: 64, uploadRounds: 2, uploadWindow: 3 },
  smoke: { rounds: 1, count: 200, warmup: 100, inflights: [10, 100], firstRounds: 1, timelineRounds: 1, steps: [10], manyRounds: 1, windowMs: 500, callgrind: [50, 150], persistMb: 2, uploadMib: 4, uploadRounds: 1, uploadWindow: 1 },
};
const plan = PLANS[mode];
if (!plan) fatal(`unknown mode ${mode}`);
const CASES = ['telemetry', 'first', 'timeline', 'many', 'callgrind', 'persist', 'upload'];
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
    child.stdout.on('data', (d) => { stdout += d; });  // a trace run's Paho trace comes here too
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
      const endUnixMs = performance.timeOrigin + performance.now();
      resolve({ ok, error, result, wallS, emuCpuS, startUnixMs, endUnixMs, stdout });
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
// xs holds one sample per round (NaN where that round's run failed), so that implementations
// measured in the same round can be paired: by_round keeps the positions.
function summary(xs) {
  const v = xs.filter((x) => Number.isFinite(x));
  return { median: median(v), min: v.length ? Math.min(...v) : null, max: v.length ? Math.max(...v) : null, n: v.length, samples: v, by_round: xs.map((x) => (Number.isFinite(x) ? x : null)) };
}
const slots = (n) => new Array(n).fill(NaN);
const ratio = (a, b) => (a == null || b == null || b === 0 ? null : a / b);
// The ratio a ÷ b within each round both ran in: how far the ratio itself moves with the load.
function roundRatios(a, b) {
  if (!a || !b || !a.by_round || !b.by_round) return null;
  const rs = [];
  for (let i = 0; i < Math.min(a.by_round.length, b.by_round.length); i++) {
    const x = a.by_round[i];
    const y = b.by_round[i];
    if (x != null && y != null && y !== 0) rs.push(x / y);
  }
  return rs.length ? { min: Math.min(...rs), max: Math.max(...rs), n: rs.length, ratios: rs } : null;
}
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
  const n = plan.rounds;
  for (const w of plan.inflights) out[w] = Object.fromEntries(IMPLS.map((i) => [i, { throughput: slots(n), cpu_us: slots(n), emulator_share: slots(n), client_share: slots(n) }]));
  for (let r = 0; r < n; r++) {
    for (const w of plan.inflights) {
      for (const impl of rotate(IMPLS, r)) {
        const d = devs[impl];
        const [cmd, args, env] = command(impl, 'telemetry', ['--hub', d.hub, '--device', d.id, '--key', d.key, '--count', String(plan.count), '--inflight', String(w), '--warmup', String(plan.warmup)]);
        const run = await runProgram(cmd, args, { env });
        if (!record(`telemetry-${w}`, impl, run)) continue;
        const m = run.result;
        const o = out[w][impl];
        o.throughput[r] = m.messages / m.seconds;
        o.cpu_us[r] = (m.cpu_s / m.messages) * 1e6;
        o.client_share[r] = m.cpu_s / m.seconds;
        // The whole process's run, warm-up included, against the emulator's CPU over the same wall time.
        o.emulator_share[r] = run.emuCpuS / run.wallS;
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
  const out = { inflight: w, throughput: Object.fromEntries(DURABILITIES.map((k) => [k, slots(plan.rounds)])), recover_ms: [], backlog: null };
  for (let r = 0; r < plan.rounds; r++) {
    for (const k of rotate(DURABILITIES, r)) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'iotc-bench-persist-'));
      const extra = k === 'memory' ? [] : ['--persist', path.join(dir, 'q'), '--durability', k];
      const [cmd, args, env] = command('iotc', 'telemetry', ['--hub', d.hub, '--device', d.id, '--key', d.key, '--count', String(plan.count), '--inflight', String(w), ...extra]);
      const run = await runProgram(cmd, args, { env });
      rmSync(dir, { recursive: true, force: true });
      if (!record(`persist-${k}`, 'iotc', run)) continue;
      out.throughput[k][r] = run.result.messages / run.result.seconds;
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

// Start to first telemetry: a new device each cold start (DPS, then the hub); iotc's warm start
// uses one device whose cache file holds its hub (filled by the untimed first run).
const FIRST = ['iotc', 'node', 'paho', 'warm'];
function firstCommand(ready, impl, id, cacheFile) {
  const key = deriveKey(ready.groupKey, id);
  const args = ['--dps', ready.dps.mqtt, '--scope', ready.idScope, '--device', id, '--key', key];
  return impl === 'warm' ? command('iotc', 'first', [...args, '--cache', cacheFile]) : command(impl, 'first', args);
}

async function caseFirst(ready, cacheFile) {
  const n = plan.firstRounds;
  const out = Object.fromEntries(FIRST.map((i) => [i, { ms: slots(n), emulator_cpu_ms: slots(n) }]));
  const warmId = `bench-warm-${process.pid}`;
  // Untimed: each program once (page cache, the Node SDK's modules), and the warm device's cache.
  for (const impl of FIRST) {
    const [cmd, args, env] = firstCommand(ready, impl, impl === 'warm' ? warmId : `bench-first-${impl}-${process.pid}-warm-up`, cacheFile);
    record('first-telemetry warm-up', impl, await runProgram(cmd, args, { env, timeoutMs: 60000 }));
  }
  for (let r = 0; r < n; r++) {
    for (const impl of rotate(FIRST, r)) {
      const [cmd, args, env] = firstCommand(ready, impl, impl === 'warm' ? warmId : `bench-first-${impl}-${process.pid}-${r}`, cacheFile);
      const run = await runProgram(cmd, args, { env, timeoutMs: 60000 });
      if (!record(impl === 'warm' ? 'warm-start' : 'first-telemetry', impl, run)) continue;
      out[impl].ms[r] = run.result.acked_unix_ms - run.startUnixMs;
      out[impl].emulator_cpu_ms[r] = run.emuCpuS * 1000;
    }
  }
  process.stderr.write('bench: start to first telemetry done\n');
  for (const impl of FIRST) for (const k of Object.keys(out[impl])) out[impl][k] = summary(out[impl][k]);
  return out;
}

// ---- timeline: where a start's time goes, from Paho's own protocol trace --------------------

// One traced start: Paho's trace lines (`20261204 232420.442 3 dev -> PUBLISH msgid: 2 qos: 1 ...`,
// `... Connecting to serverURI host:port ...`, `... SSL handshake started ...`), local time with ms
// resolution, split by connection. Both iotc and the raw program use Paho, so one parser fits both.
function parseTrace(text, dpsHost) {
  const conns = [];
  let cur = null;
  for (const line of text.split('\n')) {
    const m = /^(\d{4})(\d\d)(\d\d) (\d\d)(\d\d)(\d\d)\.(\d{3}) (.*)$/.exec(line);
    if (!m) continue;
    const t = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]).getTime();
    const msg = m[8];
    const c = /^Connecting to serverURI (\S+)/.exec(msg);
    if (c) {
      cur = { dps: c[1].replace(/^\w+:\/\//, '') === dpsHost, connect: t, tls: null, packets: [] };
      conns.push(cur);
    } else if (cur && cur.tls == null && msg.startsWith('SSL handshake started')) {
      cur.tls = t;
    } else if (cur) {
      const p = /^\d+ \S+ (->|<-) ([A-Z]+)(.*)$/.exec(msg);
      if (p) cur.packets.push({ t, out: p[1] === '->', type: p[2], rest: p[3] });
    }
  }
  return conns;
}

// Milestones of one connection: the first packet of a kind, in or out, at or after time `after`.
function milestones(conn) {
  if (!conn) return null;
  const first = (out, type, pred = () => true, after = -Infinity) => {
    const p = conn.packets.find((q) => q.out === out && q.type === type && q.t >= after && pred(q));
    return p || null;
  };
  const at = (p) => (p ? p.t : null);
  const subs = conn.packets.filter((q) => q.out && q.type === 'SUBSCRIBE');
  const subacks = conn.packets.filter((q) => !q.out && q.type === 'SUBACK');
  const ms = { connect: conn.connect, tls: conn.tls, connect_sent: at(first(true, 'CONNECT')), connack: at(first(false, 'CONNACK')), sub_sent: subs.length ? subs[0].t : null, suback: subacks.length ? subacks[subacks.length - 1].t : null, disconnect: at(first(true, 'DISCONNECT')) };
  if (conn.dps) {
    // Register, then polls until the answer that ends it; every request is answered by a PUBLISH.
    const reqs = conn.packets.filter((q) => q.out && q.type === 'PUBLISH');
    const answers = conn.packets.filter((q) => !q.out && q.type === 'PUBLISH');
    const reg = reqs.find((q) => q.rest.includes('{"registrationId"'));
    ms.register = at(reg);
    ms.register_answer = reg ? at(answers.find((q) => q.t >= reg.t)) : null;
    const polls = reg ? reqs.filter((q) => q.t >= reg.t && q !== reg) : [];
    ms.poll = polls.length ? polls[0].t : null;
    ms.poll_answer = polls.length && answers.length ? answers[answers.length - 1].t : null;
    ms.polls = polls.length;
  } else {
    const twin = first(true, 'PUBLISH', (q) => /qos: 0/.test(q.rest) && /len\(0\)/.test(q.rest));
    ms.twin = at(twin);
    ms.twin_answer = twin ? at(first(false, 'PUBLISH', () => true, twin.t)) : null;
    const tel = first(true, 'PUBLISH', (q) => q.rest.includes('{"temperature"'));
    ms.telemetry = at(tel);
    const id = tel && /msgid: (\d+)/.exec(tel.rest);
    ms.puback = id ? at(first(false, 'PUBACK', (q) => new RegExp(`msgid: ${id[1]}\\b`).test(q.rest), tel.t)) : null;
  }
  return ms;
}

const span = (a, b) => (a == null || b == null ? null : b - a);
// The rows of the timeline: [phase, ({ start, dps, hub, end }) => ms or null], where dps and hub
// are the milestones of those connections and start and end the process's. Each row is the time
// between two milestones; for a hub connection the subscriptions and the twin GET run inside
// "CONNACK → telemetry PUBLISH sent".
const PHASES = [
  ['Process start → first connect called (process and client set-up)', (x) => span(x.start, (x.dps || x.hub || {}).connect)],
  ['DPS: connect called → TLS handshake starts (TCP connect; Paho\'s receive thread finds the socket)', (x) => x.dps && span(x.dps.connect, x.dps.tls)],
  ['DPS: TLS handshake starts → CONNECT sent', (x) => x.dps && span(x.dps.tls, x.dps.connect_sent)],
  ['DPS: CONNECT → CONNACK', (x) => x.dps && span(x.dps.connect_sent, x.dps.connack)],
  ['DPS: CONNACK → SUBSCRIBE sent', (x) => x.dps && span(x.dps.connack, x.dps.sub_sent)],
  ['DPS: SUBSCRIBE → SUBACK', (x) => x.dps && span(x.dps.sub_sent, x.dps.suback)],
  ['DPS: SUBACK → register sent', (x) => x.dps && span(x.dps.suback, x.dps.register)],
  ['DPS: register sent → answered (202, assigning)', (x) => x.dps && span(x.dps.register, x.dps.register_answer)],
  ['DPS: answered → poll sent (the emulator says retry after 0 s)', (x) => x.dps && span(x.dps.register_answer, x.dps.poll)],
  ['DPS: poll sent → assigned', (x) => x.dps && span(x.dps.poll, x.dps.poll_answer)],
  ['DPS: assigned → DISCONNECT sent', (x) => x.dps && span(x.dps.poll_answer, x.dps.disconnect)],
  ['DPS teardown: DISCONNECT → hub connect called (Paho\'s MQTTAsync_destroy)', (x) => x.dps && x.hub && span(x.dps.disconnect, x.hub.connect)],
  ['Hub: connect called → TLS handshake starts (TCP connect; Paho\'s receive thread finds the socket)', (x) => x.hub && span(x.hub.connect, x.hub.tls)],
  ['Hub: TLS handshake starts → CONNECT sent', (x) => x.hub && span(x.hub.tls, x.hub.connect_sent)],
  ['Hub: CONNECT → CONNACK', (x) => x.hub && span(x.hub.connect_sent, x.hub.connack)],
  ['Hub: SUBSCRIBEs sent → last SUBACK', (x) => x.hub && span(x.hub.sub_sent, x.hub.suback)],
  ['Hub: twin GET sent → answered', (x) => x.hub && span(x.hub.twin, x.hub.twin_answer)],
  ['Hub: CONNACK → telemetry PUBLISH sent', (x) => x.hub && span(x.hub.connack, x.hub.telemetry)],
  ['Hub: telemetry PUBLISH → PUBACK', (x) => x.hub && span(x.hub.telemetry, x.hub.puback)],
  ['Process start → telemetry acked (traced run)', (x) => x.hub && span(x.start, x.hub.puback)],
  ['Telemetry acked → process exit (disconnect, destroy, exit)', (x) => x.hub && span(x.hub.puback, x.end)],
];
const TIMELINE = ['iotc', 'paho', 'warm'];

async function caseTimeline(ready, cacheFile) {
  const n = plan.timelineRounds;
  const samples = Object.fromEntries(TIMELINE.map((i) => [i, PHASES.map(() => slots(n))]));
  // ON: Paho writes to the process's stdout. Never a path: Paho truncates the file when a client
  // is created after the last one was destroyed (the DPS part would be lost), and at 1,000 lines
  // it renames the path to PATH.0 and creates a new file, which would replace /dev/stdout itself.
  const env = { MQTT_C_CLIENT_TRACE: 'ON', MQTT_C_CLIENT_TRACE_LEVEL: 'PROTOCOL' };
  const warmId = `bench-warm-${process.pid}`;
  for (let r = 0; r < n; r++) {
    for (const impl of rotate(TIMELINE, r)) {
      const [cmd, args, env0] = firstCommand(ready, impl, impl === 'warm' ? warmId : `bench-timeline-${impl}-${process.pid}-${r}`, cacheFile);
      const run = await runProgram(cmd, args, { env: { ...env0, ...env }, timeoutMs: 60000 });
      if (!record('timeline', impl, run)) continue;
      const conns = parseTrace(run.stdout, ready.dps.mqtt);
      const x = { start: run.startUnixMs, end: run.endUnixMs, dps: milestones(conns.find((c) => c.dps)), hub: milestones(conns.find((c) => !c.dps)) };
      if (!x.hub || x.hub.puback == null) {
        const lines = run.stdout.split('\n').length;
        record('timeline', impl, { ok: false, error: `no telemetry PUBACK in the Paho trace (${lines} lines of output, ${conns.length} connections)` });
        continue;
      }
      PHASES.forEach(([, f], k) => { const v = f(x); samples[impl][k][r] = v == null ? NaN : v; });
    }
  }
  process.stderr.write('bench: timeline done\n');
  return { rounds: n, phases: PHASES.map(([phase], k) => ({ phase, ...Object.fromEntries(TIMELINE.map((i) => [i, summary(samples[i][k])])) })) };
}

// iotc's clients share an executor of 2 threads here (iotc_executor), as a gateway or simulator
// running many devices in one process would; the other two have no such choice to make.
const manyArgs = (impl, extra) => [...extra, ...(impl === 'iotc' ? ['--executor-threads', '2'] : [])];

async function caseMany(listFile) {
  const out = {};
  const n = plan.manyRounds;
  for (const k of plan.steps) out[k] = Object.fromEntries(IMPLS.map((i) => [i, { rss_per_device_kib: slots(n), fixed_mib: slots(n), cpu_share: slots(n), connect_s: slots(n), emulator_share: slots(n) }]));
  const maxK = Math.max(...plan.steps);
  // Untimed: each program once with the smallest step and a short window.
  for (const impl of IMPLS) {
    const [cmd, args, env] = command(impl, 'many', manyArgs(impl, ['--devices', listFile, '--steps', String(Math.min(...plan.steps)), '--window-ms', '500', '--period', '10']));
    record('many warm-up', impl, await runProgram(cmd, args, { env, timeoutMs: 60000 + maxK * 200 }));
  }
  for (let r = 0; r < n; r++) {
    for (const impl of rotate(IMPLS, r)) {
      const [cmd, args, env] = command(impl, 'many', manyArgs(impl, ['--devices', listFile, '--steps', plan.steps.join(','), '--window-ms', String(plan.windowMs), '--period', '10']));
      const run = await runProgram(cmd, args, { env, timeoutMs: 60000 + maxK * 200 });
      if (!record('many', impl, run)) continue;
      const m = run.result;
      for (const s of m.steps) {
        const o = out[s.k][impl];
        o.rss_per_device_kib[r] = (s.rss_kib - m.rss0_kib) / s.k;
        o.fixed_mib[r] = m.rss0_kib / 1024;
        o.cpu_share[r] = s.cpu_s / s.window_s;
        o.connect_s[r] = s.connect_s;
      }
      out[maxK][impl].emulator_share[r] = run.emuCpuS / run.wallS;
    }
    process.stderr.write(`bench: ${maxK} devices round ${r + 1}/${plan.manyRounds} done\n`);
  }
  for (const k of plan.steps) for (const impl of IMPLS) for (const key of Object.keys(out[k][impl])) out[k][impl][key] = summary(out[k][impl][key]);
  return out;
}

// File upload: iotc and the Node SDK's uploadToBlob, the same size to the same emulator and
// Azurite (raw Paho has no HTTP side); then iotc offering 1,000 msg/s of telemetry without and
// during an upload.
async function caseUpload(devs) {
  const impls = ['iotc', 'node'];
  const n = plan.uploadRounds;
  const out = Object.fromEntries(impls.map((i) => [i, { mib_s: slots(n), cpu_ms_per_mib: slots(n) }]));
  out.iotc.telemetry_alone = slots(n);
  out.iotc.telemetry_during = slots(n);
  out.iotc.telemetry_ratio = slots(n);
  // Untimed: each program once with a small file.
  for (const impl of impls) {
    const d = devs[impl];
    const [cmd, args, env] = command(impl, 'upload', ['--hub', d.hub, '--device', d.id, '--key', d.key, '--mib', '4']);
    record('upload warm-up', impl, await runProgram(cmd, args, { env, timeoutMs: 600000 }));
  }
  for (let r = 0; r < n; r++) {
    for (const impl of rotate(impls, r)) {
      const d = devs[impl];
      const [cmd, args, env] = command(impl, 'upload', ['--hub', d.hub, '--device', d.id, '--key', d.key, '--mib', String(plan.uploadMib)]);
      const run = await runProgram(cmd, args, { env, timeoutMs: 600000 });
      if (!record('upload', impl, run)) continue;
      const mib = run.result.bytes / 2 ** 20;
      out[impl].mib_s[r] = mib / run.result.seconds;
      out[impl].cpu_ms_per_mib[r] = (run.result.cpu_s * 1000) / mib;
    }
    const d = devs.iotc;
    const [cmd, args, env] = command('iotc', 'upload', ['--hub', d.hub, '--device', d.id, '--key', d.key, '--mib', String(plan.uploadMib), '--telemetry', '1000', '--window', String(plan.uploadWindow)]);
    const run = await runProgram(cmd, args, { env, timeoutMs: 600000 });
    if (record('upload-telemetry', 'iotc', run)) {
      out.iotc.telemetry_alone[r] = run.result.telemetry_alone;
      out.iotc.telemetry_during[r] = run.result.telemetry_during;
      out.iotc.telemetry_ratio[r] = run.result.telemetry_during / run.result.telemetry_alone;
    }
    process.stderr.write(`bench: upload round ${r + 1}/${plan.uploadRounds} done\n`);
  }
  for (const impl of impls) for (const k of Object.keys(out[impl])) out[impl][k] = summary(out[impl][k]);
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
// Ratio of the medians, then the lowest and highest ratio within one round.
function ratioCell(v, spread) {
  if (v == null) return '—';
  return spread && spread.n > 1 ? `${r2(v)} (${spread.min.toFixed(2)}–${spread.max.toFixed(2)})` : r2(v);
}

// The main table; every ratio also goes to `ratios` (for the results file): the ratio of the
// medians and the lowest and highest ratio of two runs in the same round.
function report(results, ratios) {
  const rows = [];
  // peers: what iotc is divided by (default: the Node and Paho columns of the same row).
  const add = (metric, per, digits, scale, goal, peers = { node: per.node, paho: per.paho }) => {
    const med = (s) => (s && s.median != null ? s.median : null);
    const vs = (peer) => {
      const v = ratio(med(per.iotc), med(peers[peer]));
      return { median: v, round: v == null ? null : roundRatios(per.iotc, peers[peer]) };
    };
    const node = vs('node');
    const paho = vs('paho');
    if (node.median != null || paho.median != null) {
      const spread = (x) => (x.median == null ? null : { median: x.median, round_min: x.round ? x.round.min : null, round_max: x.round ? x.round.max : null, rounds: x.round ? x.round.n : 0 });
      ratios.push({ metric, vs_node: spread(node), vs_paho: spread(paho) });
    }
    // A smoke run is far too small to compare with the goals: show none.
    const shown = mode === 'smoke' ? '' : goal;
    rows.push(`| ${metric} | ${cell(per.iotc, digits, scale)} | ${cell(per.node, digits, scale)} | ${cell(per.paho, digits, scale)} | ${ratioCell(node.median, node.round)} | ${ratioCell(paho.median, paho.round)} | ${shown} |`);
  };
  const pick = (obj, key) => Object.fromEntries(IMPLS.map((i) => [i, obj[i][key]]));
  const t = results.telemetry;
  const maxK = Math.max(...plan.steps);
  if (t) for (const w of plan.inflights) add(`Telemetry QoS 1, ${w} in flight: msg/s`, pick(t[w], 'throughput'), 0, 1, '≥ 0.95× Paho');
  if (t) for (const w of plan.inflights) add(`Client CPU per message, ${w} in flight: µs`, pick(t[w], 'cpu_us'), 1, 1, '≤ 0.5× Node, ≤ 1.0× Paho');
  const f = results.first;
  if (f) {
    add('Start to first telemetry acked: ms', pick(f, 'ms'), 0, 1, '≤ 1.05× Paho');
    // No warm start for the others: iotc's is divided by the Node SDK's cold start.
    add('Warm start (hub cached) to first telemetry acked: ms', { iotc: f.warm.ms, node: null, paho: null }, 0, 1, '≤ 0.3× Node cold', { node: f.node.ms, paho: null });
  }
  if (results.many) {
    for (const k of plan.steps) add(`Memory per device, ${k} devices (iotc: shared executor, 2 threads): KiB`, pick(results.many[k], 'rss_per_device_kib'), 1, 1, k === maxK ? '≤ 1.15× Paho' : '');
    add('Fixed process overhead (RSS before the first client): MiB', pick(results.many[maxK], 'fixed_mib'), 1, 1, '≤ 1.5× Paho');
    add(`Connect ${maxK} devices (50 at a time): s`, pick(results.many[maxK], 'connect_s'), 2, 1, '≤ 1.0× Paho');
    add(`Client CPU with ${maxK} idle devices (1 msg/10 s each): % of a core`, pick(results.many[maxK], 'cpu_share'), 1, 100, '≤ 1.0× Paho');
  }
  const cg = results.callgrind;
  if (cg) {
    const one = (v) => ({ median: v, min: v, max: v, n: 1 });
    add('Instructions per message inside libiotc (callgrind)', { iotc: one(cg.iotc && cg.iotc.library_per_message), node: null, paho: null }, 0, 1, '≤ 2,000');
    add('Instructions per message, whole client process (callgrind)', { iotc: one(cg.iotc && cg.iotc.process_per_message), node: null, paho: one(cg.paho && cg.paho.process_per_message) }, 0, 1, '');
  }
  const u = results.upload;
  if (u) {
    add(`File upload, ${plan.uploadMib} MiB: MiB/s`, { iotc: u.iotc.mib_s, node: u.node.mib_s, paho: null }, 1, 1, '≥ 1.0× Node');
    add('Client CPU per MiB uploaded: ms', { iotc: u.iotc.cpu_ms_per_mib, node: u.node.cpu_ms_per_mib, paho: null }, 1, 1, '≤ 0.5× Node');
    add('Telemetry acked at 1,000 msg/s offered, no upload: msg/s', { iotc: u.iotc.telemetry_alone, node: null, paho: null }, 0, 1, '');
    add('Telemetry acked at 1,000 msg/s offered, during an upload: msg/s', { iotc: u.iotc.telemetry_during, node: null, paho: null }, 0, 1, '');
    add('Telemetry during an upload ÷ without', { iotc: u.iotc.telemetry_ratio, node: null, paho: null }, 2, 1, '≥ 0.8');
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
      const spread = roundRatios(p.throughput[k], p.throughput.memory);
      const shown = spread && spread.n > 1 ? { median: v, min: spread.min, max: spread.max, n: spread.n } : { median: v, min: v, max: v, n: 1 };
      add(`  ${names[k]} ÷ in memory (min–max within a round)`, only(shown), 2, 1, k === 'each' ? '' : '≥ 0.5×');
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

// The timeline table: each phase's median (min–max) over the traced starts.
function timelineReport(tl) {
  const rows = tl.phases.map((p) => `| ${p.phase} | ${cell(p.iotc)} | ${cell(p.paho)} | ${cell(p.warm)} |`);
  return [
    '| phase (Paho protocol trace, ms since the process started) | iotc ms | raw Paho ms | iotc warm start ms |',
    '|---|---|---|---|',
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
  const many = (impl, key) => (results.many ? med(results.many[maxK][impl][key]) : null);
  const rss = (impl) => many(impl, 'rss_per_device_kib');
  const vsPaho = (key) => ratio(many('iotc', key), many('paho', key));
  const f = results.first;
  const round = (v, d = 3) => (v == null ? null : Number(v.toFixed(d)));
  return {
    throughput_qos1_vs_node: round(thr('node')),
    throughput_qos1_vs_paho: round(thr('paho')),
    cpu_per_message_vs_node: round(cpu('node')),
    cpu_per_message_vs_paho: round(cpu('paho')),
    rss_per_device_kib: round(rss('iotc'), 1),
    rss_per_device_vs_node: round(ratio(rss('iotc'), rss('node'))),
    rss_per_device_vs_paho: round(ratio(rss('iotc'), rss('paho'))),
    first_telemetry_vs_node: f ? round(ratio(med(f.iotc.ms), med(f.node.ms))) : null,
    instructions_per_message: results.callgrind && results.callgrind.iotc ? Math.round(results.callgrind.iotc.library_per_message) : null,
    upload_vs_node: results.upload ? round(ratio(med(results.upload.iotc.mib_s), med(results.upload.node.mib_s))) : null,
    upload_cpu_per_mib_vs_node: results.upload ? round(ratio(med(results.upload.iotc.cpu_ms_per_mib), med(results.upload.node.cpu_ms_per_mib))) : null,
    telemetry_during_upload: results.upload ? round(med(results.upload.iotc.telemetry_ratio)) : null,
    first_telemetry_vs_paho: f ? round(ratio(med(f.iotc.ms), med(f.paho.ms))) : null,
    warm_start_vs_node_cold: f ? round(ratio(med(f.warm.ms), med(f.node.ms))) : null,
    fixed_overhead_vs_paho: round(vsPaho('fixed_mib')),
    connect_many_vs_paho: round(vsPaho('connect_s')),
    idle_cpu_vs_paho: round(vsPaho('cpu_share')),
  };
}

// ---- main ------------------------------------------------------------------------------------

async function main() {
  const t0 = performance.now();
  for (const impl of ['iotc', 'paho']) {
    for (const p of ['telemetry', 'first', 'many', ...(impl === 'iotc' ? ['upload'] : [])]) {
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

  // iotc's warm start: one device whose cache file the first run fills.
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'iotc-bench-cache-'));
  const cacheFile = path.join(cacheDir, 'cache.json');
  if (cases.includes('first') || cases.includes('timeline')) {
    const [cmd, args, env] = firstCommand(ready, 'warm', `bench-warm-${process.pid}`, cacheFile);
    record('warm-start cache', 'iotc', await runProgram(cmd, args, { env, timeoutMs: 60000 }));
  }

  const results = { mode, plan, machine: { cpus: os.cpus().length, model: os.cpus()[0] && os.cpus()[0].model, memory_gib: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(), node: process.version } };
  if (cases.includes('telemetry')) results.telemetry = await caseTelemetry(tel);
  if (cases.includes('first')) results.first = await caseFirst(ready, cacheFile);
  if (cases.includes('timeline')) results.timeline = await caseTimeline(ready, cacheFile);
  if (cases.includes('many')) results.many = await caseMany(listFile);
  if (cases.includes('callgrind')) results.callgrind = await caseCallgrind(tel);
  if (cases.includes('persist')) results.persist = await casePersist(tel.iotc);
  if (cases.includes('upload')) results.upload = await caseUpload(tel);
  rmSync(listDir, { recursive: true, force: true });
  rmSync(cacheDir, { recursive: true, force: true });
  results.failures = failures;
  results.seconds = (performance.now() - t0) / 1000;
  results.headline = headline(results);
  results.ratios = [];
  const table = report(results, results.ratios);
  writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');

  process.stdout.write(`\n${table}\n\n`);
  process.stdout.write(`Medians of ${plan.rounds} interleaved rounds (start to first telemetry: ${plan.firstRounds}; devices: ${plan.manyRounds}), min–max in brackets; a ratio is that of the medians, with the lowest and highest ratio of two runs in the same round in brackets. Each telemetry process sends ${plan.warmup} untimed messages first; each program runs once untimed before its case. ${mode} mode, ${results.seconds.toFixed(0)} s. Full results: ${outFile}\n`);
  if (results.timeline) {
    process.stdout.write(`\nWhere a start's time goes (Paho's protocol trace, ${plan.timelineRounds} traced starts each, separate from the timed ones):\n\n${timelineReport(results.timeline)}\n\n`);
  }
  if (failures.length) process.stdout.write(`${failures.length} run(s) failed; see ${outFile}\n`);
  if (mode === 'smoke') process.stdout.write('Smoke run: it checks only that every program runs; its figures are not compared with the goals.\n');
  process.stdout.write(JSON.stringify(results.headline) + '\n');
  process.exit(failures.length ? 1 : 0);
}

main().catch((e) => fatal(e.stack || e));
