// Shared helpers of the sluice ui browser tests: Debian's Chromium driven by playwright-core,
// a page wrapper that records console errors/warnings and page errors (a test fails on any)
// and saves a full-page screenshot of every page it visits, a client of the console's JSON
// API (session cookie + CSRF token), and runners for the sluice CLI and Kafka's own tools.
// Everything runs against the real stack (`sluice up`): there are no mocks here.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

export const UI_URL = (process.env.SLUICE_UI_URL || 'http://127.0.0.1:9000').replace(/\/+$/, '');
export const ARTIFACTS = path.resolve(process.env.SLUICE_ARTIFACTS || path.join(here, 'artifacts'));
export const SLUICE_BIN = process.env.SLUICE_BIN || path.resolve(here, '../../build/sluice');
export const KAFKA_BOOTSTRAP = process.env.SLUICE_KAFKA_BOOTSTRAP || '127.0.0.1:9092';
export const REGISTRY_URL = (process.env.SLUICE_REGISTRY_URL || 'http://127.0.0.1:8081').replace(/\/+$/, '');
export const CONTRACT_SCHEMA = process.env.SLUICE_SCHEMA || path.resolve(here, '../../contract/user.avsc');
/** The Kafka distribution `sluice up` installed (its jars hold Kafka's own CLI tools). */
export const KAFKA_LIB = process.env.SLUICE_KAFKA_LIB || path.resolve(here, '../../.stack/lib/kafka');
/** The Python test venv, when present (confluent_kafka from tests/requirements.txt). */
export const TEST_PYTHON = process.env.SLUICE_TEST_PYTHON || path.resolve(here, '../../.venv-tests/bin/python');
const CHROMIUM = process.env.SLUICE_CHROMIUM || '/usr/bin/chromium';

mkdirSync(ARTIFACTS, { recursive: true });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A name no earlier run used: "<prefix>.<time>.<random>". */
export function unique(prefix) {
  return `${prefix}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 7)}`;
}

/**
 * Polls `fn` until it returns a truthy value; after `timeoutMs` throws with `what` (a string,
 * or a function giving one then) and the last value.
 */
export async function until(what, fn, { timeoutMs = 30000, everyMs = 500 } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) {
      const described = typeof what === 'function' ? what() : what;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${described} (last: ${JSON.stringify(last)})`);
    }
    await sleep(everyMs);
  }
}

/** "1,234" / "49.8" / "—" as shown by the page -> number (NaN for "—"). */
export function shownNumber(text) {
  const t = String(text).trim().replace(/,/g, '');
  return t === '' || t === '—' ? NaN : Number(t);
}

// ---------------------------------------------------------------------------------------
// Browser

let browserPromise = null;

/** One Chromium per test file (node --test runs every file in its own process). */
export function browser() {
  if (!browserPromise) {
    browserPromise = chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
  }
  return browserPromise;
}

export async function closeBrowser() {
  if (!browserPromise) return;
  const b = await browserPromise;
  browserPromise = null;
  await b.close();
}

function fileSafe(s) {
  return s.replace(/[^a-zA-Z0-9._-]+/g, '_').replace(/_+/g, '_').slice(0, 120);
}

// Chrome logs a failed request as a console error of its own: allowed only for a 4xx a test
// provokes on purpose (declared with ui.expect4xx()).
const FAILED_RESOURCE = /^Failed to load resource: the server responded with a status of (\d{3})/;

/**
 * A page of the console for one test. Records every console error/warning and page error,
 * saves a full-page screenshot of each page visited (before leaving it, and at the end).
 * Use through withPage(), which closes it and fails the test on any recorded problem.
 */
export class UiPage {
  constructor(t, context, page, { fullPage = true } = {}) {
    this.t = t;
    this.fullPage = fullPage;
    this.context = context;
    this.page = page;
    this.problems = [];
    this.allowed4xx = new Set();
    this.shots = [];
    this.current = null;
    page.on('console', (msg) => {
      const type = msg.type();
      if (type !== 'error' && type !== 'warning') return;
      const text = msg.text();
      const m = FAILED_RESOURCE.exec(text);
      if (m && this.allowed4xx.has(Number(m[1]))) return;
      this.problems.push(`console.${type} on ${this.where()}: ${text} (${msg.location()?.url || 'no url'})`);
    });
    page.on('pageerror', (err) => this.problems.push(`page error on ${this.where()}: ${err.stack || err.message || err}`));
    page.on('crash', () => this.problems.push(`page crashed on ${this.where()}`));
  }

  /** The route shown now ("#/topics/users.raw"). */
  where() {
    try {
      return new URL(this.page.url()).hash || '#/';
    } catch {
      return String(this.current);
    }
  }

  /** Allows Chrome's "Failed to load resource ... status of <status>" for a deliberate 4xx. */
  expect4xx(status) {
    assert.ok(status >= 400 && status < 500, 'only a 4xx may be expected');
    this.allowed4xx.add(status);
  }

  /** Opens `#/<route>` (e.g. "topics/users.raw"); screenshots the page being left. */
  async goto(route, { waitFor } = {}) {
    if (this.current !== null) await this.screenshot();
    const hash = `#/${route.replace(/^[#/]+/, '')}`;
    this.current = hash;
    await this.page.goto(`${UI_URL}/${hash}`);
    if (waitFor) await this.page.getByTestId(waitFor).waitFor();
    return this.page;
  }

  /** Saves a full-page PNG (or the viewport, for a page opened with fullPage: false) of what is shown now into SLUICE_ARTIFACTS. */
  async screenshot(label = '') {
    const n = String(this.shots.length + 1).padStart(2, '0');
    const parts = [fileSafe(this.t.name).slice(0, 60), n, label && fileSafe(label), fileSafe(this.where())].filter(Boolean);
    const file = path.join(ARTIFACTS, `${parts.join('.')}.png`);
    await this.page.screenshot({ path: file, fullPage: this.fullPage, timeout: 30000 });
    this.shots.push(file);
    return file;
  }

  testid(id) {
    return this.page.getByTestId(id);
  }

  /** Runs `action` (a click) and waits for the API answer to `apiPath` it causes, then a frame. */
  async reloadVia(action, apiPath) {
    const [res] = await Promise.all([
      this.page.waitForResponse((r) => new URL(r.url()).pathname === `/api/v1${apiPath}`),
      action(),
    ]);
    await this.frame();
    return res;
  }

  /** Resolves after the next rendered frame. */
  frame() {
    return this.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
  }
}

/**
 * Runs `fn(ui)` with a fresh browser context and page, then screenshots the last page,
 * closes it, and fails when the page logged a console error/warning or threw.
 */
export async function withPage(t, fn, { viewport = { width: 1400, height: 900 }, fullPage = true, shotLabel = '' } = {}) {
  const b = await browser();
  const context = await b.newContext({ viewport });
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  const ui = new UiPage(t, context, page, { fullPage });
  let failure = null;
  try {
    await fn(ui);
  } catch (e) {
    failure = e;
  }
  try {
    if (ui.current !== null) await ui.screenshot(failure ? [shotLabel, 'at-failure'].filter(Boolean).join('.') : shotLabel);
  } catch (e) {
    if (!failure) failure = e;
  }
  await context.close();
  if (failure) {
    if (ui.problems.length) failure.message += `\nbrowser problems:\n  ${ui.problems.join('\n  ')}`;
    throw failure;
  }
  assert.deepEqual(ui.problems, [], 'the page logged console errors/warnings or threw');
  return ui;
}

// ---------------------------------------------------------------------------------------
// The console's JSON API, as a third-party client (cookie jar + CSRF token)

export class ConsoleApi {
  constructor(base = UI_URL) {
    this.base = `${base}/api/v1`;
    this.cookie = '';
    this.csrf = '';
  }

  async session() {
    const res = await fetch(`${this.base}/session`, { headers: { Accept: 'application/json' } });
    assert.equal(res.status, 200, `GET /api/v1/session answered ${res.status}`);
    const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]);
    this.cookie = cookies.join('; ');
    const body = await res.json();
    this.csrf = body.csrf_token;
    assert.ok(this.csrf, 'the session has a csrf_token');
    return body;
  }

  /** {status, body} of one request; body is parsed JSON (null when empty). */
  async request(method, p, body) {
    if (method === 'POST' && !this.csrf) await this.session();
    const headers = { Accept: 'application/json' };
    if (this.cookie) headers.Cookie = this.cookie;
    const init = { method, headers };
    if (method === 'POST') {
      headers['Content-Type'] = 'application/json';
      headers['X-CSRF-Token'] = this.csrf;
      init.body = JSON.stringify(body ?? {});
    }
    const res = await fetch(this.base + p, init);
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = { unparsed: text };
    }
    return { status: res.status, body: json };
  }

  /** GET that must answer 200: the body. */
  async get(p) {
    const r = await this.request('GET', p);
    assert.equal(r.status, 200, `GET /api/v1${p} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** POST with the CSRF token; a 403 (the console restarted: a new session secret) renews the session once. */
  async post(p, body) {
    const r = await this.request('POST', p, body);
    if (r.status !== 403) return r;
    await this.session();
    return this.request('POST', p, body);
  }
}

/** Waits (polling every 30 s by default) until the console answers GET /api/v1/topics. */
export async function waitForConsole({ timeoutMs = Number(process.env.SLUICE_WAIT_MS || 15 * 60 * 1000), everyMs = 30000 } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${UI_URL}/api/v1/topics`, { signal: AbortSignal.timeout(10000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > end) throw new Error(`the console at ${UI_URL} did not answer /api/v1/topics within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------------------
// Processes: the sluice CLI and Kafka's own command-line tools

/**
 * Runs a command; resolves {code, stdout, stderr}. `input` is written to its stdin.
 * Killed (SIGTERM, by its own pid) after timeoutMs. A binary that is being replaced by a
 * build at that moment (EACCES/ETXTBSY on spawn) is tried again for up to 10 s.
 */
export async function run(cmd, args, opts = {}) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await runOnce(cmd, args, opts);
    } catch (e) {
      if (!['EACCES', 'ETXTBSY'].includes(e.code) || attempt >= 10) throw e;
      await sleep(1000);
    }
  }
}

function runOnce(cmd, args, { input, timeoutMs = 60000, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** `sluice produce` of generated users into users.raw (Avro through the registry). */
export function sluiceProduce(extra) {
  return run(
    SLUICE_BIN,
    ['produce', '--bootstrap', KAFKA_BOOTSTRAP, '--registry', REGISTRY_URL, '--schema', CONTRACT_SCHEMA, ...extra],
    { timeoutMs: 120000 },
  );
}

function kafkaTool(mainClass, args, opts) {
  assert.ok(existsSync(KAFKA_LIB), `Kafka's jars are not at ${KAFKA_LIB} (set SLUICE_KAFKA_LIB)`);
  return run('java', ['-Xms64m', '-Xmx256m', '-cp', `${KAFKA_LIB}/*`, mainClass, ...args], opts);
}

/**
 * Writes one record per line of `lines` to `topic` with Kafka's own console producer
 * (kafka-console-producer). It reads text: bytes that are not UTF-8 become U+FFFD.
 */
export async function kafkaConsoleProduce(topic, lines) {
  const r = await kafkaTool(
    'org.apache.kafka.tools.ConsoleProducer',
    ['--bootstrap-server', KAFKA_BOOTSTRAP, '--topic', topic],
    { input: Buffer.concat(lines.map((l) => Buffer.concat([Buffer.from(l, 'latin1'), Buffer.from('\n')]))), timeoutMs: 60000 },
  );
  assert.equal(r.code, 0, `kafka-console-producer failed: ${r.stderr}`);
}

/**
 * Partition count of `topic` as a client independent of sluice sees it, or null when the
 * topic does not exist: confluent_kafka from the test venv when it is there, else Kafka's
 * own kafka-topics (TopicCommand) from the broker's distribution.
 */
export async function independentPartitions(topic) {
  if (existsSync(TEST_PYTHON)) {
    const probe = await run(TEST_PYTHON, ['-c', 'import confluent_kafka']);
    if (probe.code === 0) {
      const code = [
        'import sys',
        'from confluent_kafka.admin import AdminClient',
        `md = AdminClient({"bootstrap.servers": ${JSON.stringify(KAFKA_BOOTSTRAP)}}).list_topics(timeout=10)`,
        't = md.topics.get(sys.argv[1])',
        'print(len(t.partitions) if t is not None and t.error is None else "absent")',
      ].join('\n');
      const r = await run(TEST_PYTHON, ['-c', code, topic]);
      assert.equal(r.code, 0, `confluent_kafka list_topics failed: ${r.stderr}`);
      const out = r.stdout.trim();
      return out === 'absent' ? null : Number(out);
    }
  }
  const d = await kafkaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', KAFKA_BOOTSTRAP, '--describe', '--topic', topic]);
  if (d.code !== 0 && /does not exist/.test(d.stdout + d.stderr)) return null;
  assert.equal(d.code, 0, `kafka-topics --describe failed: ${d.stdout}${d.stderr}`);
  const m = /PartitionCount:\s*(\d+)/.exec(d.stdout);
  assert.ok(m, `kafka-topics --describe printed no PartitionCount: ${d.stdout}`);
  return Number(m[1]);
}

/** The registry's own REST API (Confluent-compatible), for setting up a test subject. */
export async function registry(method, p, body) {
  const init = { method, headers: { Accept: 'application/vnd.schemaregistry.v1+json, application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/vnd.schemaregistry.v1+json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(REGISTRY_URL + p, init);
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { unparsed: text };
  }
  return { status: res.status, body: json };
}
