// The store service's HTTP API as the web apps use it: a bearer token kept in localStorage,
// JSON in and out, and every error turned into an ApiError {status, code, detail} that the
// apps can show to people. Server-Sent Events are read with fetch (streamEvents) because
// EventSource cannot send the Authorization header.

const TOKEN_KEY = "walkout.token";

/** An error answer of the service: its HTTP status, machine code and human detail. */
export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

/** The bearer token of this browser's sign-in (one per origin and app). */
export const session = {
  get token() {
    return localStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  },
};

function headers(extra) {
  const result = { Accept: "application/json", ...extra };
  const token = session.token;
  if (token) result.Authorization = `Bearer ${token}`;
  return result;
}

async function failure(response, sentToken) {
  let code = `http_${response.status}`;
  let detail = response.statusText || "the request failed";
  try {
    const body = await response.json();
    code = body.code ?? code;
    detail = body.detail ?? detail;
  } catch {
    // Not JSON (a proxy's page): keep the status line.
  }
  if (response.status === 401 && sentToken) {
    // The sign-in expired or was ended elsewhere: back to the sign-in screen.
    session.token = null;
    window.dispatchEvent(new CustomEvent("walkout:signed-out"));
  }
  return new ApiError(response.status, code, detail);
}

/**
 * Call the API: `api("/cards", {method: "POST", body: {...}, headers: {...}})`. Resolves to the parsed JSON
 * (null for 204), or to the Response itself with `raw: true`; rejects with an ApiError.
 */
export async function api(
  path,
  { method = "GET", body, signal, raw = false, headers: extra = {} } = {},
) {
  const token = session.token;
  let response;
  try {
    response = await fetch(path, {
      method,
      signal,
      headers: headers(
        body === undefined ? extra : { ...extra, "Content-Type": "application/json" },
      ),
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "offline", "the store cannot be reached");
  }
  if (!response.ok) throw await failure(response, Boolean(token));
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

/**
 * Read a Server-Sent Events stream; calls `onEvent(kind, data)` for each event until the
 * server ends the stream or `signal` aborts. Resolves when the stream ends.
 */
export async function streamEvents(path, onEvent, signal) {
  const response = await fetch(path, {
    signal,
    headers: headers({ Accept: "text/event-stream" }),
    cache: "no-store",
  });
  if (!response.ok) throw await failure(response, Boolean(session.token));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let kind = "message";
      const data = [];
      for (const line of frame.split("\n")) {
        if (line.startsWith(":")) continue; // keep-alive comment
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") kind = text;
        else if (field === "data") data.push(text);
      }
      if (data.length) onEvent(kind, JSON.parse(data.join("\n")));
    }
  }
}
