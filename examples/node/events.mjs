#!/usr/bin/env node
// Example client of the 1Password Events API, for Node 20 or later with no
// packages: it uses the built-in fetch. It works against 1Password's own
// servers and against Logbook.
//
//   1. The bearer token comes from OP_EVENTS_TOKEN (never from the command
//      line, where other users could see it in the process list).
//   2. The base URL comes from OP_EVENTS_URL, or else from the token itself:
//      a token is a JWT whose payload names the Events host in aud[0].
//   3. GET /api/v2/auth/introspect tells which features the token opens.
//   4. For each feature, POST /api/v2/<feature> with a reset cursor
//      ({limit, start_time}) the first time, or with the cursor saved by the
//      previous run ({cursor}), and follow has_more page by page.
//   5. Every event goes to stdout as one JSON line; the last cursor of each
//      feature is saved to a state file after each page, so the next run
//      continues where this one stopped.
//
// Delivery is at least once: if the program dies between printing a page and
// saving its cursor, the next run prints that page again. Dedupe on "uuid" if
// duplicates matter.
//
// Usage:
//   OP_EVENTS_TOKEN=... node events.mjs [--start-time 2025-01-01T00:00:00Z] [--limit 100] [--state FILE]

import { readFileSync, writeFileSync, renameSync, openSync, fsyncSync, closeSync } from "node:fs";
import { parseArgs } from "node:util";

const MAX_ATTEMPTS = 5; // tries per request on 429, 5xx or network errors
const FIRST_BACKOFF_MS = 1000; // wait before the first retry; doubles each time

// Logs go to stderr so that stdout carries nothing but events.
const log = (...parts) => console.error("events:", ...parts);

class UsageError extends Error {}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        "start-time": { type: "string" },
        limit: { type: "string", default: "100" },
        state: { type: "string", default: process.env.OP_EVENTS_STATE || "events-state.json" },
      },
    }));
  } catch (err) {
    throw new UsageError(err.message);
  }
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new UsageError(`--limit ${values.limit}: must be an integer between 1 and 1000`);
  }
  let start = new Date(Date.now() - 24 * 3600 * 1000);
  if (values["start-time"] !== undefined) {
    // Date.parse is lenient; demand the RFC 3339 shape first.
    const s = values["start-time"];
    start = new Date(s);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(s) || isNaN(start)) {
      throw new UsageError(`--start-time ${JSON.stringify(s)}: not an RFC 3339 time such as 2025-01-01T00:00:00Z`);
    }
  }
  const token = (process.env.OP_EVENTS_TOKEN || "").trim();
  if (!token) throw new UsageError("OP_EVENTS_TOKEN is not set");
  let base = process.env.OP_EVENTS_URL || "https://" + audience(token);
  return { token, base: base.replace(/\/+$/, ""), limit, start, statePath: values.state };
}

// audience returns aud[0] of the JWT: the Events host the token was issued
// for. The signature is not checked here; the server does that.
function audience(token) {
  const parts = token.split(".");
  if (parts.length !== 3) throw new UsageError("OP_EVENTS_URL is not set and OP_EVENTS_TOKEN is not a JWT");
  let claims;
  try {
    claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
  } catch {
    throw new UsageError("OP_EVENTS_URL is not set and the OP_EVENTS_TOKEN payload is not base64url JSON");
  }
  if (!Array.isArray(claims.aud) || !claims.aud[0]) {
    throw new UsageError("OP_EVENTS_URL is not set and OP_EVENTS_TOKEN has no aud claim naming the Events host");
  }
  return claims.aud[0];
}

// call sends body (if any) as JSON and returns the decoded 200 reply. It
// waits and retries on 429 (for Retry-After seconds), on 5xx and on network
// errors. Re-sending is safe: the Events API lets a client replay a cursor.
async function call(opts, method, path, body) {
  for (let attempt = 1; ; attempt++) {
    let wait = FIRST_BACKOFF_MS * 2 ** (attempt - 1);
    try {
      const res = await fetch(opts.base + path, {
        method,
        headers: {
          Authorization: `Bearer ${opts.token}`,
          Accept: "application/json",
          ...(body ? { "Content-Type": "application/json" } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      if (res.status === 200) return JSON.parse(text);
      if (res.status === 429) {
        const s = Number(res.headers.get("retry-after"));
        if (res.headers.has("retry-after") && Number.isInteger(s) && s >= 0) wait = s * 1000;
        log(`rate limited on ${path}`);
      } else if (res.status >= 500) {
        log(`server error ${res.status} on ${path}`);
      } else if (res.status === 401) {
        throw new Error(`401 ${message(text)}: the token is invalid, expired or revoked, or lacks this feature; check OP_EVENTS_TOKEN and OP_EVENTS_URL`);
      } else if (res.status === 400) {
        throw new Error(`400 ${message(text)}: the server rejected the request; if a saved cursor is stale, delete the state file and start again`);
      } else {
        throw new Error(`unexpected status ${res.status} ${message(text)} from ${path}`);
      }
    } catch (err) {
      // fetch rejects with a TypeError when the server cannot be reached, and
      // with a TimeoutError when it is too slow; both are worth a retry.
      if (!(err instanceof TypeError || err.name === "TimeoutError")) throw err;
      log(`request to ${path} failed: ${err.cause?.message || err.message}`);
    }
    if (attempt === MAX_ATTEMPTS) throw new Error(`giving up on ${path} after ${attempt} attempts`);
    log(`retrying ${path} in ${wait / 1000}s (attempt ${attempt + 1})`);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

// message extracts the text of an error reply, {"Error":{"Message":"..."}}.
function message(text) {
  try {
    return JSON.parse(text).Error.Message || text.trim();
  } catch {
    return text.trim();
  }
}

// loadState reads the saved cursors, one per feature; no file, no cursors.
function loadState(path) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (err.code === "ENOENT") return {};
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`state file ${path} is not a JSON object of cursors`);
  }
}

// saveState writes the cursors atomically: a temporary file in the same
// directory, flushed to disk, then renamed over the old one. A crash leaves
// either the old state or the new, never half of one.
function saveState(path, state) {
  const tmp = `${path}.tmp${process.pid}`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeFileSync(fd, JSON.stringify(state, null, 2) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

// writeOut prints text and resolves once stdout has taken it, so that a
// cursor is never saved before its events are out.
function writeOut(text) {
  return new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}

async function main() {
  const opts = options();
  const intro = await call(opts, "GET", "/api/v2/auth/introspect");
  log(`token features: ${intro.features.join(", ")}`);

  const state = loadState(opts.statePath);
  for (const feature of intro.features) {
    // A saved cursor continues the stream; without one, a reset cursor
    // starts it. Times are sent in UTC, as RFC 3339.
    let body = state[feature]
      ? { cursor: state[feature] }
      : { limit: opts.limit, start_time: opts.start.toISOString().replace(/\.\d+Z$/, "Z") };
    let n = 0;
    for (;;) {
      const page = await call(opts, "POST", `/api/v2/${feature}`, body);
      if (page.items.length > 0) {
        await writeOut(page.items.map((e) => JSON.stringify(e) + "\n").join(""));
      }
      n += page.items.length;
      state[feature] = page.cursor;
      saveState(opts.statePath, state);
      if (!page.has_more) break;
      body = { cursor: page.cursor };
    }
    log(`${feature}: ${n} events`);
  }
}

main().catch((err) => {
  log(`error: ${err.message}`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
