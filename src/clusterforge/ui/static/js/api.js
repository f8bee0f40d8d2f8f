// The HTTP API as the page uses it: same-origin fetches carrying the session
// cookie, and the session's CSRF token on every request that changes anything.

export const session = {authenticated: false, publicReads: false, csrfToken: null};

export class ApiError extends Error {
  constructor(status, body, text) {
    const err = (body && body.error) || {};
    super(err.message || text || `HTTP ${status}`);
    this.status = status;
    this.code = err.code || '';
    this.field = err.field || null;
    this.problems = err.problems || (err.field ? [{field: err.field, message: err.message}] : []);
  }
}

export async function api(path, {method = 'GET', body, headers = {}} = {}) {
  const options = {method, credentials: 'same-origin', headers: {Accept: 'application/json', ...headers}};
  if (method !== 'GET' && method !== 'HEAD' && session.csrfToken) {
    options.headers['X-CSRF-Token'] = session.csrfToken;
  }
  if (body !== undefined) {
    options.headers['Content-Type'] ||= 'application/json';
    options.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  return readAnswer(await fetch(path, options));
}

/** An answer's JSON body, or an ApiError carrying the API's error shape. */
export async function readAnswer(response) {
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) throw new ApiError(response.status, data, text);
  return data;
}

export async function loadSession() {
  Object.assign(session, await api('/api/v1/session'));
  return session;
}

export async function login(token) {
  Object.assign(session, await api('/api/v1/session', {method: 'POST', body: {token}}));
  return session;
}

export async function logout() {
  await api('/api/v1/session', {method: 'DELETE'});
  Object.assign(session, {authenticated: false, csrfToken: null});
}

/** Whether the page may read without signing in first. */
export function canRead() {
  return session.authenticated || session.publicReads;
}
