// SPDX-License-Identifier: MIT
// The dashboard in a real browser (headless Chromium through puppeteer-core), against a live emulator
// and the real C environmental sensor: what an operator sees and does, end to end.
//   IOTC_SENSOR          the environmental_sensor binary (the ctest dashboard.browser passes it);
//                        without it the test is skipped with a message
//   IOTC_CHROMIUM        the browser (default /usr/bin/chromium, Debian's package)
//   IOTC_SCREENSHOT_DIR  where screenshots go (default: a folder in the temp directory)
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startEmulator, uniqueId, derive, direct, rawHub, subscribe } = require('./helpers.cjs');

const CHROMIUM = process.env.IOTC_CHROMIUM || '/usr/bin/chromium';
const SENSOR = process.env.IOTC_SENSOR || '';
const TEMPLATE = path.join(__dirname, '..', '..', '..', 'examples', 'environmental_sensor', 'EnvironmentalSensor.json');
const SHOTS = process.env.IOTC_SCREENSHOT_DIR || path.join(os.tmpdir(), 'iotc-dashboard-screenshots');
// The flags a closed network needs (no background connections) plus a profile of its own.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-proxy-server'];

function browserMissing() {
  if (!fs.existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (Debian: apt-get install chromium; tests/install-deps.sh installs it)`;
  try {
    require.resolve('puppeteer-core');
  } catch {
    return 'puppeteer-core is not installed (npm ci in tests/emulator)';
  }
  return null;
}

/** Why the sensor test cannot run, or null. */
function sensorMissing() {
  if (!SENSOR) return 'IOTC_SENSOR is not set: give the environmental_sensor binary (the ctest integration.dashboard_browser gives it)';
  if (!fs.existsSync(SENSOR)) return `IOTC_SENSOR=${SENSOR} does not exist`;
  return null;
}

/** Starts the sensor for the device; resolves to { child, output(), quit() }. */
function startSensor(emu, id, key, model) {
  const env = {
    PATH: process.env.PATH, IOTC_ID_SCOPE: emu.idScope, IOTC_DEVICE_ID: id, IOTC_DEVICE_KEY: key,
    IOTC_DPS_ENDPOINT: emu.dps.mqtt, IOTC_CA_FILE: emu.caFile, IOTC_MODEL_ID: model,
  };
  if (process.env.LSAN_OPTIONS) env.LSAN_OPTIONS = process.env.LSAN_OPTIONS;
  if (process.env.ASAN_OPTIONS) env.ASAN_OPTIONS = process.env.ASAN_OPTIONS;
  const child = spawn(SENSOR, ['--connect-timeout', '30', '--interval-ms', '1000'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => out,
    /** 'q' on stdin, as a person quits it; SIGKILL after 10 s. */
    async quit() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.stdin.end('q\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
  };
}

/** An emulator with the sensor's device template: { emu, model, modelId }. */
async function emulatorWithTemplate(t) {
  const emu = await startEmulator(['--retry-after', '0']);
  t.after(() => emu.stop());
  const model = JSON.parse(fs.readFileSync(TEMPLATE, 'utf8'));
  const modelId = model['@id'];
  assert.ok((await emu.api('PUT', `/api/deviceTemplates/${encodeURIComponent(modelId)}`, model)).status < 300);
  return { emu, modelId };
}

/**
 * Chromium on the dashboard at 1280x800: { page, problems, dataIs }. problems collects console
 * errors, page errors, failed requests and error responses.
 */
async function openDashboard(t, emu) {
  const puppeteer = require('puppeteer-core');
  fs.mkdirSync(SHOTS, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'iotc-chromium-'));
  const removeProfile = () => fs.rmSync(profile, { recursive: true, force: true });
  let browser;
  try {
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, userDataDir: profile });
  } catch (err) {
    removeProfile();
    throw err;
  }
  // The profile goes once the browser has stopped writing to it.
  t.after(async () => {
    await browser.close();
    removeProfile();
  });
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    const why = r.failure() ? r.failure().errorText : '';
    // Streams and requests cut short by leaving a page are not failures.
    if (why !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} ${why}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(`${emu.apiBase}/`, { waitUntil: 'domcontentloaded' });
  /** Waits until the element's data-KEY is VALUE. */
  const dataIs = (selector, key, value, timeout) => page.waitForFunction((s, k, v) => {
    const e = document.querySelector(s);
    return e && e.dataset[k] === v;
  }, { timeout }, selector, key, value);
  return { page, problems, dataIs };
}

const noBrowser = browserMissing();

test('the dashboard shows the sensor and drives it, in Chromium', { skip: noBrowser || sensorMissing() || false, timeout: 240000 }, async (t) => {
  const { emu, modelId } = await emulatorWithTemplate(t);
  const id = uniqueId('dash-sensor');
  assert.equal((await emu.api('PUT', `/api/devices/${id}`, { displayName: 'Environmental sensor', template: modelId })).status, 201);
  const key = (await emu.api('GET', `/api/devices/${id}/attestation`)).body.symmetricKey.primaryKey;
  const { page, problems, dataIs } = await openDashboard(t, emu);

  const row = `tr[data-device="${id}"]`;
  await page.waitForSelector(`${row} [data-connection=disconnected]`, { timeout: 10000 });
  const sensor = startSensor(emu, id, key, modelId);
  t.after(() => sensor.quit());
  try {
    // ---- the list: the device connects
    await page.waitForSelector(`${row} [data-connection=connected]`, { timeout: 45000 });
    await page.click(`${row} a`);
    await page.waitForSelector('#connection-state[data-connection=connected]', { timeout: 10000 });

    // ---- telemetry: both charts gain points
    const points = (item) => page.$eval(`figure[data-telemetry="${item}"]`, (f) => Number(f.dataset.points));
    await page.waitForSelector('figure[data-telemetry="temp"]', { timeout: 15000 });
    await page.waitForSelector('figure[data-telemetry="humid"]', { timeout: 15000 });
    const before = { temp: await points('temp'), humid: await points('humid') };
    for (const item of ['temp', 'humid']) {
      await page.waitForFunction((it, n) => Number(document.querySelector(`figure[data-telemetry="${it}"]`).dataset.points) > n, { timeout: 15000 }, item, before[item]);
    }
    const after = { temp: await points('temp'), humid: await points('humid') };
    t.diagnostic(`chart points: temp ${before.temp} -> ${after.temp}, humid ${before.humid} -> ${after.humid}`);

    // ---- blink 2: the 200 response and its text
    await page.type('[data-command-form="blink"] input[type=number]', '2');
    await page.click('[data-command-form="blink"] button[type=submit]');
    await dataIs('output[data-command="blink"]', 'status', '200', 35000);
    const blink = await page.$eval('output[data-command="blink"]', (o) => o.textContent);
    assert.match(blink, /200/);
    assert.match(blink, /Blinking LED every 2 seconds/);
    const commands = await page.$('#commands');
    await commands.screenshot({ path: path.join(SHOTS, 'dashboard-command.png') });

    // ---- brightness: pending, then accepted at the desired version
    const state = () => page.$eval('tr[data-property="brightness"] [data-state]', (c) => ({ state: c.dataset.state, text: c.textContent }));
    await page.type('[data-write="brightness"] input', '4');
    await page.click('[data-write="brightness"] button[type=submit]');
    await dataIs('tr[data-property="brightness"] [data-state]', 'state', 'pending', 10000);
    const pending = await state();
    t.diagnostic(`brightness: ${pending.text}`);
    await dataIs('tr[data-property="brightness"] [data-state]', 'state', 'accepted', 30000);
    const accepted = await state();
    const props = (await emu.api('GET', `/api/devices/${id}/properties`)).body;
    const version = props.$metadata.brightness.desiredVersion;
    assert.equal(props.brightness, 4);
    assert.match(accepted.text, new RegExp(`ac=200, version ${version}\\b`));
    assert.equal(await page.$eval('tr[data-property="brightness"] [data-version]', (c) => c.dataset.version), String(version));
    t.diagnostic(`brightness: ${accepted.text}`);

    // ---- rundiagnostics: 202, then the completion property
    await page.click('[data-command-form="rundiagnostics"] button[type=submit]');
    await dataIs('output[data-command="rundiagnostics"]', 'status', '202', 35000);
    assert.match(await page.$eval('output[data-command="rundiagnostics"]', (o) => o.textContent), /202/);
    await page.waitForSelector('[data-completion="rundiagnostics"] [data-state=completed]', { timeout: 30000 });
    const completion = await page.$eval('[data-completion="rundiagnostics"]', (c) => c.textContent);
    assert.match(completion, /Diagnostics run complete at/);
    t.diagnostic(`rundiagnostics: ${completion}`);

    // ---- a forced disconnect: the state change, then the reconnect
    const count = (ev) => page.$$eval(`.history li[data-event=${ev}]`, (l) => l.length);
    const connectedBefore = await count('connected');
    const disconnectedBefore = await count('disconnected');
    await page.click('[data-fault=disconnect]');
    await page.waitForFunction((n) => document.querySelectorAll('.history li[data-event=disconnected]').length > n, { timeout: 10000 }, disconnectedBefore);
    await page.waitForFunction((n) => document.querySelectorAll('.history li[data-event=connected]').length > n
      && document.querySelector('#connection-state').dataset.connection === 'connected', { timeout: 60000 }, connectedBefore);
    const history = await page.$$eval('.history li', (l) => l.map((li) => li.dataset.event));
    assert.deepEqual(history.slice(0, 2), ['connected', 'disconnected'], 'newest first: the reconnect after the disconnect');

    // ---- failover: the device provisions again and connects to the other hub
    const hubBefore = (await emu.api('GET', `/api/devices/${id}`)).body.hub;
    await page.click('[data-fault=failover]');
    await page.waitForFunction((h) => {
      const newest = document.querySelector('.history li');
      return newest && newest.dataset.event === 'connected' && !newest.textContent.endsWith(h)
        && document.querySelector('#connection-state').dataset.connection === 'connected';
    }, { timeout: 90000 }, hubBefore);
    const hubAfter = (await emu.api('GET', `/api/devices/${id}`)).body.hub;
    assert.notEqual(hubAfter, hubBefore);
    t.diagnostic(`failover: ${hubBefore} -> ${hubAfter}`);

    // ---- the wire log: the device's CONNECT, its signature redacted
    const connect = await page.$eval('#wire tr[data-type=CONNECT]', (r) => r.textContent);
    assert.match(connect, /sig=<redacted>/);
    assert.ok(!connect.includes(key), 'no key in the wire log');

    // ---- keyboard: Tab reaches the blink command's Run button
    await page.focus('a[href="#/"]');
    let reached = false;
    for (let i = 0; i < 200 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement && document.activeElement.matches('[data-command-form="blink"] button[type=submit]'));
    }
    assert.ok(reached, 'the blink Run button is reachable with Tab');

    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-device.png') });
    // ---- a phone's width: no sideways scrolling of the page
    await page.setViewport({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than a phone's screen`);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-phone.png'), fullPage: true });
    t.diagnostic(`screenshots in ${SHOTS}`);

    assert.deepEqual(problems, [], 'no console errors, failed requests or error responses');
  } catch (err) {
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-failure.png'), fullPage: true }).catch(() => {});
    t.diagnostic(`sensor output:\n${sensor.output()}`);
    t.diagnostic(`page problems: ${JSON.stringify(problems)}`);
    throw err;
  }
});

test('devices are created, shown with their credentials, sent queued commands and deleted, in Chromium', { skip: noBrowser || false, timeout: 120000 }, async (t) => {
  const { emu, modelId } = await emulatorWithTemplate(t);
  const { page, problems, dataIs } = await openDashboard(t, emu);
  const id = uniqueId('dash-made');
  await page.waitForSelector('#new-template option[value]:not([value=""])');
  await page.type('#new-id', id);
  await page.type('#new-name', 'Made in the dashboard');
  await page.select('#new-template', modelId);
  await page.click('input[name=auth][value=individual]');
  await page.click('#create button[type=submit]');

  // Its credentials: an individual key (not the group's derived one), and the line for the sensor.
  await page.waitForFunction((d) => {
    const c = document.querySelector('#creds');
    return c && c.textContent.includes(d);
  }, { timeout: 10000 }, id);
  const att = (await emu.api('GET', `/api/devices/${id}/attestation`)).body;
  assert.notEqual(att.symmetricKey.primaryKey, derive(emu.groupKey, id), 'an individual key');
  const env = await page.$eval('#creds pre.env', (e) => e.textContent);
  assert.ok(env.includes(`IOTC_DEVICE_ID=${id}`) && env.includes(`IOTC_DEVICE_KEY=${att.symmetricKey.primaryKey}`) && env.includes(`IOTC_ID_SCOPE=${emu.idScope}`), env);
  const device = (await emu.api('GET', `/api/devices/${id}`)).body;
  assert.equal(device.template, modelId);
  assert.equal(device.displayName, 'Made in the dashboard');

  // Offline: a queued command, counted on the device page.
  const row = `tr[data-device="${id}"]`;
  await page.waitForSelector(`${row} [data-connection=disconnected]`, { timeout: 10000 });
  await page.click(`${row} a`);
  await page.waitForSelector('[data-command-form="blink"] input[type=number]', { timeout: 10000 });
  await page.type('[data-command-form="blink"] input[type=number]', '3');
  await page.click('[data-command-form="blink"] input[type=checkbox]');
  await page.click('[data-command-form="blink"] button[type=submit]');
  await dataIs('output[data-command="blink"]', 'status', 'queued', 10000);
  await dataIs('#c2d-queued', 'count', '1', 10000);
  assert.equal((await emu.api('GET', `/emulator/devices/${id}`)).body.c2dQueued, 1);

  // Deleted from the list (after the confirmation).
  page.on('dialog', (d) => d.accept());
  await page.click('a[href="#/"]');
  await page.waitForSelector(`${row} button.danger`, { timeout: 10000 });
  await page.click(`${row} button.danger`);
  await page.waitForFunction((s) => !document.querySelector(s), { timeout: 10000 }, row);
  assert.equal((await emu.api('GET', `/api/devices/${id}`)).status, 404);
  assert.deepEqual(problems, [], 'no console errors, failed requests or error responses');
});

test('a device without a template: free commands, a JSON patch refused by the device, component telemetry, faults, in Chromium', { skip: noBrowser || false, timeout: 120000 }, async (t) => {
  const emu = await startEmulator(['--retry-after', '0']);
  t.after(() => emu.stop());
  const dev = await direct(emu, 'dash-raw');
  const client = await rawHub(emu, dev);
  t.after(() => client.end(true));
  await subscribe(client, '$iothub/methods/POST/#');
  await subscribe(client, '$iothub/twin/PATCH/properties/desired/#');
  // The device: answers every method with what it got, and refuses every desired property.
  client.on('message', (topic, payload) => {
    const method = /^\$iothub\/methods\/POST\/([^/]+)\/\?\$rid=(.+)$/.exec(topic);
    if (method) client.publish(`$iothub/methods/res/200/?$rid=${method[2]}`, JSON.stringify({ method: method[1], got: JSON.parse(payload.toString()) }));
    const desired = /^\$iothub\/twin\/PATCH\/properties\/desired\/\?\$version=(\d+)$/.exec(topic);
    if (desired) {
      const patch = JSON.parse(payload.toString());
      const ack = {};
      for (const [k, v] of Object.entries(patch)) if (k !== '$version') ack[k] = { value: v, ac: 400, av: Number(desired[1]), ad: 'not supported here' };
      client.publish('$iothub/twin/PATCH/properties/reported/?$rid=1', JSON.stringify(ack));
    }
  });
  const { page, problems, dataIs } = await openDashboard(t, emu);
  await page.goto(`${emu.apiBase}/#/devices/${dev.id}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#connection-state[data-connection=connected]', { timeout: 10000 });

  // Telemetry of a component: its own chart, its component in the raw table.
  client.publish(`devices/${dev.id}/messages/events/%24.sub=env&%24.ct=application%2Fjson&%24.ce=utf-8`, JSON.stringify({ pressure: 1013.5 }));
  await page.waitForSelector('figure[data-telemetry="env/pressure"]', { timeout: 10000 });
  assert.match(await page.$eval('#messages tbody tr', (r) => r.textContent), /env.*application\/json/);

  // Any command, any JSON payload: the device's answer with its status.
  await page.type('#cmd-name', 'reboot');
  await page.type('#cmd-payload', '{"delay": 1}');
  await page.click('#commands button[type=submit]');
  await dataIs('output[data-command="*"]', 'status', '200', 35000);
  const answer = await page.$eval('output[data-command="*"]', (o) => o.textContent);
  assert.match(answer, /200/);
  assert.match(answer, /"method":"reboot","got":\{"delay":1\}/);

  // A JSON patch: pending, then refused with the device's description.
  await page.type('#patch', '{"fanSpeed": 3}');
  await page.click('#properties form button[type=submit]');
  await dataIs('tr[data-property="fanSpeed"] [data-state]', 'state', 'refused', 10000);
  const refused = await page.$eval('tr[data-property="fanSpeed"] [data-state]', (c) => c.textContent);
  assert.match(refused, /ac=400.*not supported here/);

  // A fault for the device, listed, then cleared.
  await page.click('[data-fault=throttle]');
  await page.waitForFunction(() => document.querySelector('#faults .faults').textContent.includes('twinThrottle'), { timeout: 10000 });
  assert.equal((await emu.api('GET', '/emulator/faults')).body.value.filter((f) => f.deviceId === dev.id).length, 1);
  await page.click('[data-fault=clear]');
  await page.waitForFunction(() => document.querySelector('#faults .faults').textContent.trim() === 'none', { timeout: 10000 });
  assert.equal((await emu.api('GET', '/emulator/faults')).body.value.length, 0);
  assert.deepEqual(problems, [], 'no console errors, failed requests or error responses');
});

test('property forms follow the template\'s schemas (enum, boolean, double, string, a component\'s integer), in Chromium', { skip: noBrowser || false, timeout: 120000 }, async (t) => {
  const emu = await startEmulator(['--retry-after', '0']);
  t.after(() => emu.stop());
  const prop = (name, schema) => ({ '@type': 'Property', name, schema, writable: true });
  const model = [{
    '@context': 'dtmi:dtdl:context;2', '@id': 'dtmi:com:example:iotc:Forms;1', '@type': 'Interface', displayName: 'Forms',
    contents: [
      prop('mode', { '@type': 'Enum', valueSchema: 'integer', enumValues: [{ name: 'eco', displayName: 'Eco', enumValue: 1 }, { name: 'boost', displayName: 'Boost', enumValue: 2 }] }),
      prop('enabled', 'boolean'), prop('target', 'double'), prop('label', 'string'),
      { '@type': 'Component', name: 'fan', schema: 'dtmi:com:example:iotc:Fan;1' },
    ],
  }, {
    '@context': 'dtmi:dtdl:context;2', '@id': 'dtmi:com:example:iotc:Fan;1', '@type': 'Interface',
    contents: [prop('speed', 'integer'), { '@type': 'Command', name: 'spin', request: { name: 'turns', schema: 'integer' } }],
  }];
  const templateId = 'dtmi:com:example:iotc:Forms;1';
  assert.ok((await emu.api('PUT', `/api/deviceTemplates/${encodeURIComponent(templateId)}`, model)).status < 300);
  const id = uniqueId('dash-forms');
  assert.equal((await emu.api('PUT', `/api/devices/${id}`, { template: templateId })).status, 201);
  const { page, problems } = await openDashboard(t, emu);
  await page.goto(`${emu.apiBase}/#/devices/${id}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('[data-write="mode"] select', { timeout: 10000 });

  const status = () => page.$eval('#properties .status', (s) => s.textContent);
  /** Submits one property's form and waits for the answer line to change. */
  const submit = async (key) => {
    const before = await status();
    // From the keyboard, as a user tabbing through the forms does: no pointer position can land
    // on another element (the sticky header) when the page has just scrolled.
    await page.focus(`[data-write="${key}"] button[type=submit]`);
    await page.keyboard.press('Enter');
    await page.waitForFunction((b) => document.querySelector('#properties .status').textContent !== b, { timeout: 20000 }, before);
    return status();
  };
  assert.equal(await page.$$eval('[data-write="mode"] option', (o) => o.length), 2);
  await page.select('[data-write="mode"] select', '1'); // Boost
  assert.match(await submit('mode'), /sent: mode → desired version/);
  await page.select('[data-write="enabled"] select', 'false');
  await submit('enabled');
  await page.type('[data-write="target"] input[type=number][step=any]', '21.5');
  await submit('target');
  await page.type('[data-write="label"] input[type=text]', 'hall');
  await submit('label');
  // A whole number is checked in the page; the request is not sent.
  await page.type('[data-write="fan/speed"] input[type=number][step="1"]', '2.5');
  assert.match(await submit('fan/speed'), /fan\/speed: enter a whole number/);
  await page.$eval('[data-write="fan/speed"] input', (i) => { i.value = '3'; });
  assert.match(await submit('fan/speed'), /sent: speed → desired version/);
  await page.waitForSelector('tr[data-property="fan/speed"] [data-state=pending]', { timeout: 10000 });
  assert.ok(await page.$('[data-command-form="fan/spin"] input[type=number][step="1"]'), 'the component\'s command, with its request field');

  const props = (await emu.api('GET', `/api/devices/${id}/properties`)).body;
  const desired = (meta, name) => meta.$metadata[name].desiredValue;
  assert.deepEqual([desired(props, 'mode'), desired(props, 'enabled'), desired(props, 'target'), desired(props, 'label'), desired(props.fan, 'speed')], [2, false, 21.5, 'hall', 3]);
  assert.deepEqual(problems, [], 'no console errors, failed requests or error responses');
});
