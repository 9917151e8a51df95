<?php
// Example client of the 1Password Events API, using only PHP's bundled curl
// and json extensions. It works against 1Password's own servers and against
// Logbook.
//
// 1. The bearer token comes from OP_EVENTS_TOKEN (never from the command line,
//    where other users could see it in the process list).
// 2. The base URL comes from OP_EVENTS_URL, or else from the token itself: a
//    token is a JWT whose payload names the Events host in aud[0].
// 3. GET /api/v2/auth/introspect tells which features the token opens.
// 4. For each feature, POST /api/v2/<feature> with a reset cursor
//    ({"limit", "start_time"}) the first time, or with the cursor saved by the
//    previous run ({"cursor"}), and follow has_more page by page.
// 5. Every event goes to stdout as one JSON line; the last cursor of each
//    feature is saved to a state file after each page, so the next run
//    continues where this one stopped.
//
// Delivery is at least once: if the program dies between printing a page and
// saving its cursor, the next run prints that page again. Dedupe on "uuid" if
// duplicates matter.
//
// Usage:
//   OP_EVENTS_TOKEN=... php events.php [--start-time 2025-01-01T00:00:00Z] [--limit 100] [--state FILE]

declare(strict_types=1);

const MAX_ATTEMPTS = 5;  // tries per request on 429, 5xx or network errors
const FIRST_BACKOFF = 1; // seconds before the first retry; doubles each time
// Events are printed as the server sent them: no escaped slashes or Unicode.
const JSON_OUT = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR;

final class UsageError extends Exception {}

// Logs go to stderr so that stdout carries nothing but events.
function logLine(string $msg): void
{
    fwrite(STDERR, "events: $msg\n");
}

// audience returns aud[0] of the JWT: the Events host the token was issued
// for. The signature is not checked here; the server does that.
function audience(string $token): string
{
    $parts = explode('.', $token);
    if (count($parts) !== 3) {
        throw new UsageError('OP_EVENTS_URL is not set and OP_EVENTS_TOKEN is not a JWT');
    }
    $claims = json_decode((string) base64_decode(strtr($parts[1], '-_', '+/'), true), true);
    $aud = $claims['aud'][0] ?? null;
    if (!is_array($claims['aud'] ?? null) || !is_string($aud) || $aud === '') {
        throw new UsageError('OP_EVENTS_URL is not set and OP_EVENTS_TOKEN has no aud claim naming the Events host');
    }
    return $aud;
}

// message extracts the text of an error reply, {"Error":{"Message":"..."}}.
function message(string $body): string
{
    $e = json_decode($body, true);
    return is_array($e) && isset($e['Error']['Message']) ? (string) $e['Error']['Message'] : trim($body);
}

// call sends $body (if any) as JSON and returns the decoded 200 reply, with
// JSON objects as stdClass so that an empty object stays {} when printed. It
// waits and retries on 429 (for Retry-After seconds), on 5xx and on network
// errors. Re-sending is safe: the Events API lets a client replay a cursor.
function call(string $base, string $token, string $method, string $path, ?array $body = null): object
{
    for ($attempt = 1; ; $attempt++) {
        $wait = FIRST_BACKOFF * 2 ** ($attempt - 1);
        $retryAfter = null;
        $ch = curl_init($base . $path);
        $headers = ["Authorization: Bearer $token", 'Accept: application/json'];
        if ($body !== null) {
            $headers[] = 'Content-Type: application/json';
            curl_setopt($ch, CURLOPT_POSTFIELDS, json_encode($body, JSON_OUT));
        }
        curl_setopt_array($ch, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT => 30,
            CURLOPT_HEADERFUNCTION => function ($ch, string $line) use (&$retryAfter): int {
                if (preg_match('/^Retry-After:\s*(\d+)\s*$/i', $line, $m)) {
                    $retryAfter = (int) $m[1];
                }
                return strlen($line);
            },
        ]);
        $text = curl_exec($ch);
        $status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        $curlError = curl_error($ch);
        curl_close($ch);

        if ($text === false) {
            // The server could not be reached or was too slow.
            logLine("request to $path failed: $curlError");
        } elseif ($status === 200) {
            return json_decode($text, false, 512, JSON_THROW_ON_ERROR);
        } elseif ($status === 429) {
            $wait = $retryAfter ?? $wait;
            logLine("rate limited on $path");
        } elseif ($status >= 500) {
            logLine("server error $status on $path");
        } elseif ($status === 401) {
            throw new RuntimeException('401 ' . message($text) . ': the token is invalid, expired or revoked, '
                . 'or lacks this feature; check OP_EVENTS_TOKEN and OP_EVENTS_URL');
        } elseif ($status === 400) {
            throw new RuntimeException('400 ' . message($text) . ': the server rejected the request; '
                . 'if a saved cursor is stale, delete the state file and start again');
        } else {
            throw new RuntimeException("unexpected status $status " . message($text) . " from $path");
        }
        if ($attempt === MAX_ATTEMPTS) {
            throw new RuntimeException("giving up on $path after $attempt attempts");
        }
        logLine("retrying $path in {$wait}s (attempt " . ($attempt + 1) . ')');
        sleep($wait);
    }
}

// loadState reads the saved cursors, one per feature; no file, no cursors.
function loadState(string $path): array
{
    if (!file_exists($path)) {
        return [];
    }
    $state = json_decode((string) file_get_contents($path), true);
    if (!is_array($state)) {
        throw new RuntimeException("state file $path is not a JSON object of cursors");
    }
    return $state;
}

// saveState writes the cursors atomically: a temporary file in the same
// directory, flushed to disk, then renamed over the old one. A crash leaves
// either the old state or the new, never half of one.
function saveState(string $path, array $state): void
{
    $tmp = tempnam(dirname($path), basename($path) . '.tmp'); // created 0600
    $f = fopen($tmp, 'w');
    try {
        fwrite($f, json_encode((object) $state, JSON_OUT | JSON_PRETTY_PRINT) . "\n");
        fflush($f);
        fsync($f); // PHP 8.1+
    } finally {
        fclose($f);
    }
    if (!rename($tmp, $path)) {
        @unlink($tmp);
        throw new RuntimeException("save state: cannot rename $tmp to $path");
    }
}

function main(): void
{
    $opts = getopt('', ['start-time:', 'limit:', 'state:'], $rest);
    if ($opts === false || $rest < count($GLOBALS['argv'])) {
        throw new UsageError('usage: php events.php [--start-time TIME] [--limit N] [--state FILE]');
    }
    $limit = $opts['limit'] ?? '100';
    if (!ctype_digit((string) $limit) || (int) $limit < 1 || (int) $limit > 1000) {
        throw new UsageError("--limit $limit: must be an integer between 1 and 1000");
    }
    $start = new DateTimeImmutable('-24 hours');
    if (isset($opts['start-time'])) {
        $s = (string) $opts['start-time'];
        $start = DateTimeImmutable::createFromFormat(DATE_RFC3339, $s)
            ?: DateTimeImmutable::createFromFormat(DATE_RFC3339_EXTENDED, $s)
            ?: DateTimeImmutable::createFromFormat('Y-m-d\TH:i:s.uP', $s);
        if ($start === false) {
            throw new UsageError("--start-time \"$s\": not an RFC 3339 time such as 2025-01-01T00:00:00Z");
        }
    }
    // Times are sent in UTC, as RFC 3339.
    $startTime = $start->setTimezone(new DateTimeZone('UTC'))->format('Y-m-d\TH:i:s\Z');
    $statePath = (string) ($opts['state'] ?? (getenv('OP_EVENTS_STATE') ?: 'events-state.json'));

    $token = trim((string) getenv('OP_EVENTS_TOKEN'));
    if ($token === '') {
        throw new UsageError('OP_EVENTS_TOKEN is not set');
    }
    $base = rtrim(getenv('OP_EVENTS_URL') ?: 'https://' . audience($token), '/');

    $intro = call($base, $token, 'GET', '/api/v2/auth/introspect');
    logLine('token features: ' . implode(', ', $intro->features));

    $state = loadState($statePath);
    foreach ($intro->features as $feature) {
        // A saved cursor continues the stream; without one, a reset cursor starts it.
        $body = empty($state[$feature])
            ? ['limit' => (int) $limit, 'start_time' => $startTime]
            : ['cursor' => $state[$feature]];
        $n = 0;
        do {
            $page = call($base, $token, 'POST', "/api/v2/$feature", $body);
            foreach ($page->items as $event) {
                fwrite(STDOUT, json_encode($event, JSON_OUT) . "\n");
            }
            // Print the page before saving its cursor: a crash in between
            // repeats the page rather than losing it.
            fflush(STDOUT);
            $n += count($page->items);
            $state[$feature] = $page->cursor;
            saveState($statePath, $state);
            $body = ['cursor' => $page->cursor];
        } while ($page->has_more);
        logLine("$feature: $n events");
    }
}

try {
    main();
} catch (UsageError $e) {
    logLine('error: ' . $e->getMessage());
    exit(2);
} catch (Throwable $e) {
    logLine('error: ' . $e->getMessage());
    exit(1);
}
