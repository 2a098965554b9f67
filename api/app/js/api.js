// Talking to /api/v1: the session's bearer token on every call, one refresh and a
// retry when the token has expired, and the API's own error body (code, message,
// the field a 422 names) handed to the screen as an ApiError.

import { session } from './session.js';

export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error ?? {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || 'http_error';
    this.field = error.details?.field ?? null;
    this.retryAfter = error.details?.retry_after_seconds ?? null;
  }
}

/** `/api/v1` + `path`, as an absolute path on this server. */
export function apiPath(path) {
  return `/api/v1${path}`;
}

async function send(method, path, body, headers) {
  const init = { method, headers: { ...headers } };
  const token = session.accessToken();
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return fetch(apiPath(path), init);
}

/** Calls the API and answers the parsed JSON (null for 204), or throws ApiError. */
export async function api(method, path, body, headers = {}) {
  let response = await send(method, path, body, headers);
  if (response.status === 401 && session.canRefresh()) {
    await session.refresh();
    response = await send(method, path, body, headers);
  }
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  const parsed = type.includes('json') ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

/** A file the API makes (CSV, XLSX), fetched with the session and saved by the browser. */
export async function download(path, fileName) {
  let response = await send('GET', path);
  if (response.status === 401 && session.canRefresh()) {
    await session.refresh();
    response = await send('GET', path);
  }
  if (!response.ok) {
    const type = response.headers.get('Content-Type') || '';
    throw new ApiError(response.status, type.includes('json') ? await response.json() : null);
  }
  const blob = await response.blob();
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

/** A fresh idempotency key for one user action (kept while the action is retried). */
export function actionKey() {
  return crypto.randomUUID();
}

/** Builds `path?query` from an object, leaving out empty values. */
export function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, value);
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}
