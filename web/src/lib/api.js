// Fetch wrapper for the console's JSON API (/api/v1/). Before the first POST it GETs
// /api/v1/session (which sets the session cookie and hands out the CSRF token); every POST
// carries `X-CSRF-Token`. Error answers ({error, parameter}) become ApiError with a readable
// message that names the parameter.

const BASE = '/api/v1';

/** An API call that failed: `status` is the HTTP status (0 when the server was unreachable). */
export class ApiError extends Error {
  constructor(message, status = 0, parameter = '') {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.parameter = parameter;
  }
}

let sessionPromise = null;

/** The session ({csrf_token, version, token_required}), fetched once and shared. */
export function session(refresh = false) {
  if (refresh || !sessionPromise) {
    sessionPromise = send('GET', '/session').catch((e) => {
      sessionPromise = null; // try again on the next call
      throw e;
    });
  }
  return sessionPromise;
}

/** Turns an error answer into a sentence for the page. */
export function errorMessage(status, body, text) {
  if (status === 401) {
    return 'This console requires an access token: log in at /login once in this browser.';
  }
  if (body && typeof body === 'object' && body.error) {
    const what = String(body.error);
    const p = body.parameter ? String(body.parameter) : '';
    // Name the parameter unless the sentence already does ("no topic x" needs no "(topic)").
    return p && !what.toLowerCase().includes(p.toLowerCase()) ? `${what} (parameter: ${p})` : what;
  }
  const snippet = (text || '').trim().slice(0, 200);
  return snippet ? `HTTP ${status}: ${snippet}` : `HTTP ${status} with no explanation`;
}

function query(params) {
  if (!params) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function send(method, path, body, csrf) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin' };
  if (method === 'POST') {
    headers['Content-Type'] = 'application/json';
    if (csrf) headers['X-CSRF-Token'] = csrf;
    init.body = JSON.stringify(body ?? {});
  }
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch (e) {
    throw new ApiError(`The console server is unreachable: ${e.message || e}`, 0);
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    throw new ApiError(errorMessage(res.status, json, text), res.status, json?.parameter || '');
  }
  if (json === null && text) throw new ApiError(`The server answered ${path} with something that is not JSON`, res.status);
  return json ?? {};
}

/** GET /api/v1<path>?<params>. Reads need no session: they do not wait for one. */
export async function get(path, params) {
  return send('GET', path + query(params));
}

/** POST /api/v1<path> with a JSON body and the CSRF token; a 403 renews the session once. */
export async function post(path, body) {
  const s = await session();
  try {
    return await send('POST', path, body, s.csrf_token);
  } catch (e) {
    if (e.status !== 403) throw e;
    const fresh = await session(true); // the server may have restarted and forgotten us
    return send('POST', path, body, fresh.csrf_token);
  }
}

/** A path segment (topic, group, subject) escaped for the URL. */
export const seg = (s) => encodeURIComponent(String(s));
