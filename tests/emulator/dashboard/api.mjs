// SPDX-License-Identifier: MIT
// The emulator's operator API, from the page: JSON in and out, errors as readable text.

export const enc = encodeURIComponent;

/** Resolves to { status, ok, data } (data: the JSON body, or the text when it is not JSON). */
export async function call(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    return { status: 0, ok: false, data: { error: { code: 'NetworkError', message: `the emulator did not answer (${err.message})` } } };
  }
  const raw = await res.text();
  let data = null;
  try {
    data = raw ? JSON.parse(raw) : null;
  } catch {
    data = raw;
  }
  return { status: res.status, ok: res.ok, data };
}

/** The API's error as one line: "404 NotFound: device x not found". */
export function errorText(r) {
  const e = r.data && r.data.error;
  return e ? `${r.status || ''} ${e.code}: ${e.message}`.trim() : `HTTP ${r.status}`;
}

/** Calls and throws Error(errorText) unless the answer is 2xx. */
export async function must(method, path, body) {
  const r = await call(method, path, body);
  if (!r.ok) throw new Error(errorText(r));
  return r.data;
}
