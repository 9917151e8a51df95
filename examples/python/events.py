#!/usr/bin/env python3
"""Example client of the 1Password Events API, using only Python's standard
library (urllib). It works against 1Password's own servers and against
Logbook.

1. The bearer token comes from OP_EVENTS_TOKEN (never from the command line,
   where other users could see it in the process list).
2. The base URL comes from OP_EVENTS_URL, or else from the token itself: a
   token is a JWT whose payload names the Events host in aud[0].
3. GET /api/v2/auth/introspect tells which features the token opens.
4. For each feature, POST /api/v2/<feature> with a reset cursor
   ({"limit", "start_time"}) the first time, or with the cursor saved by the
   previous run ({"cursor"}), and follow has_more page by page.
5. Every event goes to stdout as one JSON line; the last cursor of each
   feature is saved to a state file after each page, so the next run
   continues where this one stopped.

Delivery is at least once: if the program dies between printing a page and
saving its cursor, the next run prints that page again. Dedupe on "uuid" if
duplicates matter.

Usage:
    OP_EVENTS_TOKEN=... python3 events.py [--start-time 2025-01-01T00:00:00Z] [--limit 100] [--state FILE]
"""

import argparse
import base64
import datetime
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request

MAX_ATTEMPTS = 5  # tries per request on 429, 5xx or network errors
FIRST_BACKOFF = 1.0  # seconds before the first retry; doubles each time


class UsageError(Exception):
    pass


def log(msg):
    # Logs go to stderr so that stdout carries nothing but events.
    print("events:", msg, file=sys.stderr, flush=True)


def parse_time(s):
    """Parse an RFC 3339 time; the result is aware, so it converts to UTC."""
    iso = s[:-1] + "+00:00" if s[-1:] in "Zz" else s  # fromisoformat takes "Z" only from 3.11
    try:
        t = datetime.datetime.fromisoformat(iso)
    except ValueError:
        t = None
    if t is None or t.tzinfo is None or "T" not in s.upper():
        raise UsageError(f"--start-time {s!r}: not an RFC 3339 time such as 2025-01-01T00:00:00Z")
    return t


def audience(token):
    """Return aud[0] of the JWT: the Events host the token was issued for.
    The signature is not checked here; the server does that."""
    parts = token.split(".")
    if len(parts) != 3:
        raise UsageError("OP_EVENTS_URL is not set and OP_EVENTS_TOKEN is not a JWT")
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
        return claims["aud"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        raise UsageError("OP_EVENTS_URL is not set and OP_EVENTS_TOKEN has no aud claim naming the Events host")


def message(body):
    """The text of an error reply, {"Error":{"Message":"..."}}."""
    try:
        return json.loads(body)["Error"]["Message"]
    except (ValueError, KeyError, TypeError):
        return body.decode("utf-8", "replace").strip()


class Client:
    def __init__(self, base, token):
        self.base = base.rstrip("/")
        self.token = token

    def call(self, method, path, body=None):
        """Send body (if any) as JSON and return the decoded 200 reply.

        Waits and retries on 429 (for Retry-After seconds), on 5xx and on
        network errors. Re-sending is safe: the Events API lets a client
        replay a cursor."""
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            wait = FIRST_BACKOFF * 2 ** (attempt - 1)
            req = urllib.request.Request(self.base + path, data=data, method=method)
            req.add_header("Authorization", "Bearer " + self.token)
            req.add_header("Accept", "application/json")
            if data is not None:
                req.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    return json.load(resp)
            except urllib.error.HTTPError as err:
                # urllib raises for every status other than 2xx.
                text = err.read()
                if err.code == 429:
                    retry_after = err.headers.get("Retry-After", "")
                    if retry_after.isdigit():
                        wait = int(retry_after)
                    log(f"rate limited on {path}")
                elif err.code >= 500:
                    log(f"server error {err.code} on {path}")
                elif err.code == 401:
                    raise RuntimeError(
                        f"401 {message(text)}: the token is invalid, expired or revoked, "
                        "or lacks this feature; check OP_EVENTS_TOKEN and OP_EVENTS_URL"
                    )
                elif err.code == 400:
                    raise RuntimeError(
                        f"400 {message(text)}: the server rejected the request; "
                        "if a saved cursor is stale, delete the state file and start again"
                    )
                else:
                    raise RuntimeError(f"unexpected status {err.code} {message(text)} from {path}")
            except (urllib.error.URLError, OSError) as err:
                # The server could not be reached or was too slow.
                log(f"request to {path} failed: {getattr(err, 'reason', err)}")
            if attempt == MAX_ATTEMPTS:
                raise RuntimeError(f"giving up on {path} after {attempt} attempts")
            log(f"retrying {path} in {wait}s (attempt {attempt + 1})")
            time.sleep(wait)


def load_state(path):
    """The saved cursors, one per feature; no file, no cursors."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}
    except ValueError:
        raise RuntimeError(f"state file {path} is not a JSON object of cursors")


def save_state(path, state):
    """Write the cursors atomically: a temporary file in the same directory,
    flushed to disk, then renamed over the old one. A crash leaves either the
    old state or the new, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=os.path.basename(path) + ".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(state, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main():
    parser = argparse.ArgumentParser(description="Print events from the 1Password Events API as JSON lines.")
    parser.add_argument("--start-time", help="RFC 3339 time to start from when a feature has no saved cursor (default 24 hours ago)")
    parser.add_argument("--limit", type=int, default=100, help="events per page, 1-1000")
    parser.add_argument("--state", default=os.environ.get("OP_EVENTS_STATE") or "events-state.json",
                        help="file that keeps the last cursor of each feature (env OP_EVENTS_STATE)")
    args = parser.parse_args()  # exits 2 on a bad command line
    if not 1 <= args.limit <= 1000:
        raise UsageError(f"--limit {args.limit}: must be between 1 and 1000")
    if args.start_time:
        start = parse_time(args.start_time)
    else:
        start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=24)
    # Times are sent in UTC, as RFC 3339.
    start_time = start.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    token = os.environ.get("OP_EVENTS_TOKEN", "").strip()
    if not token:
        raise UsageError("OP_EVENTS_TOKEN is not set")
    base = os.environ.get("OP_EVENTS_URL") or "https://" + audience(token)
    client = Client(base, token)

    intro = client.call("GET", "/api/v2/auth/introspect")
    log("token features: " + ", ".join(intro["features"]))

    state = load_state(args.state)
    for feature in intro["features"]:
        # A saved cursor continues the stream; without one, a reset cursor starts it.
        if state.get(feature):
            body = {"cursor": state[feature]}
        else:
            body = {"limit": args.limit, "start_time": start_time}
        n = 0
        while True:
            page = client.call("POST", "/api/v2/" + feature, body)
            for event in page["items"]:
                sys.stdout.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
            # Print the page before saving its cursor: a crash in between
            # repeats the page rather than losing it.
            sys.stdout.flush()
            n += len(page["items"])
            state[feature] = page["cursor"]
            save_state(args.state, state)
            if not page["has_more"]:
                break
            body = {"cursor": page["cursor"]}
        log(f"{feature}: {n} events")


if __name__ == "__main__":
    try:
        main()
    except UsageError as err:
        log(f"error: {err}")
        sys.exit(2)
    except (RuntimeError, OSError, ValueError, KeyError) as err:
        log(f"error: {err}")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
