// Command events is an example client of the 1Password Events API. It works
// against 1Password's own servers and against Logbook, uses only the
// standard library, and shows the whole protocol in one file:
//
//  1. the bearer token comes from OP_EVENTS_TOKEN (never from the command
//     line, where other users could see it in the process list);
//  2. the base URL comes from OP_EVENTS_URL, or else from the token itself:
//     a token is a JWT whose payload names the Events host in aud[0];
//  3. GET /api/v2/auth/introspect tells which features the token opens;
//  4. for each feature, POST /api/v2/<feature> with a reset cursor
//     ({"limit", "start_time"}) the first time, or with the cursor saved by
//     the previous run ({"cursor"}), and follow has_more page by page;
//  5. every event goes to stdout as one JSON line, and the last cursor of
//     each feature is saved to a state file after each page, so the next run
//     continues where this one stopped.
//
// Delivery is at least once: if the program dies between printing a page
// and saving its cursor, that page is printed again by the next run.
// Consumers that must not see duplicates should dedupe on the event "uuid".
//
// Usage:
//
//	OP_EVENTS_TOKEN=... go run ./examples/go [--start-time 2025-01-01T00:00:00Z] [--limit 100] [--state FILE]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	// maxAttempts bounds how often one request is tried when the server
	// answers 429 or 5xx, or cannot be reached.
	maxAttempts = 5
	// firstBackoff is the wait before the first retry of a 5xx; it doubles
	// with each attempt.
	firstBackoff = time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Logs go to stderr so that stdout carries nothing but events.
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, os.Args[1:], log); err != nil {
		log.Error("stopped", "err", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	startArg := fs.String("start-time", "", "RFC 3339 time to start from when a feature has no saved cursor (default 24 hours ago)")
	limit := fs.Int("limit", 100, "events per page, 1-1000")
	statePath := fs.String("state", envOr("OP_EVENTS_STATE", "events-state.json"), "file that keeps the last cursor of each feature (env OP_EVENTS_STATE)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *limit < 1 || *limit > 1000 {
		return fmt.Errorf("%w: --limit %d: must be between 1 and 1000", errUsage, *limit)
	}
	start := time.Now().Add(-24 * time.Hour)
	if *startArg != "" {
		t, err := time.Parse(time.RFC3339, *startArg)
		if err != nil {
			return fmt.Errorf("%w: --start-time %q: not an RFC 3339 time such as 2025-01-01T00:00:00Z", errUsage, *startArg)
		}
		start = t
	}

	token := strings.TrimSpace(os.Getenv("OP_EVENTS_TOKEN"))
	if token == "" {
		return fmt.Errorf("%w: OP_EVENTS_TOKEN is not set", errUsage)
	}
	base := os.Getenv("OP_EVENTS_URL")
	if base == "" {
		host, err := audience(token)
		if err != nil {
			return fmt.Errorf("%w: OP_EVENTS_URL is not set and %v", errUsage, err)
		}
		base = "https://" + host
	}
	c := &client{base: strings.TrimRight(base, "/"), token: token, log: log, http: &http.Client{Timeout: 30 * time.Second}}

	var intro struct {
		Features []string `json:"features"`
	}
	if err := c.call(ctx, http.MethodGet, "/api/v2/auth/introspect", nil, &intro); err != nil {
		return fmt.Errorf("introspect: %w", err)
	}
	log.Info("token features", "features", strings.Join(intro.Features, ","))

	state, err := loadState(*statePath)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	for _, feature := range intro.Features {
		// A saved cursor continues the stream; without one, a reset cursor
		// starts it. Times are sent in UTC, as RFC 3339.
		var body any = map[string]any{"limit": *limit, "start_time": start.UTC().Format(time.RFC3339)}
		if cur := state[feature]; cur != "" {
			body = map[string]string{"cursor": cur}
		}
		n := 0
		for {
			var page struct {
				Cursor  string            `json:"cursor"`
				HasMore bool              `json:"has_more"`
				Items   []json.RawMessage `json:"items"`
			}
			if err := c.call(ctx, http.MethodPost, "/api/v2/"+feature, body, &page); err != nil {
				return fmt.Errorf("%s: %w", feature, err)
			}
			for _, item := range page.Items {
				var line bytes.Buffer
				if err := json.Compact(&line, item); err != nil {
					return fmt.Errorf("%s: event is not JSON: %w", feature, err)
				}
				line.WriteByte('\n')
				out.Write(line.Bytes())
			}
			// Print the page before saving its cursor: a crash in between
			// repeats the page rather than losing it.
			if err := out.Flush(); err != nil {
				return fmt.Errorf("write events: %w", err)
			}
			n += len(page.Items)
			state[feature] = page.Cursor
			if err := saveState(*statePath, state); err != nil {
				return err
			}
			if !page.HasMore {
				break
			}
			body = map[string]string{"cursor": page.Cursor}
		}
		log.Info("feature done", "feature", feature, "events", n)
	}
	return nil
}

// audience returns aud[0] of a JWT: the Events host the token was issued
// for. It reads the payload without checking the signature; the server
// does that.
func audience(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("OP_EVENTS_TOKEN is not a JWT (want three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", fmt.Errorf("OP_EVENTS_TOKEN payload is not base64url: %v", err)
	}
	var claims struct {
		Aud []string `json:"aud"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || len(claims.Aud) == 0 || claims.Aud[0] == "" {
		return "", errors.New("OP_EVENTS_TOKEN has no aud claim naming the Events host")
	}
	return claims.Aud[0], nil
}

// client makes authenticated calls and retries those worth retrying.
type client struct {
	base, token string
	log         *slog.Logger
	http        *http.Client
}

// call sends body (if not nil) as JSON and decodes a 200 reply into out.
// It waits and retries on 429 (for Retry-After seconds), on 5xx and on
// network errors, up to maxAttempts in all. Re-sending a request is safe:
// the Events API lets a client replay a cursor.
func (c *client) call(ctx context.Context, method, path string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		wait := firstBackoff << (attempt - 1)
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c.log.Warn("request failed", "path", path, "err", err)
		} else {
			data, readErr := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusOK && readErr == nil:
				if err := json.Unmarshal(data, out); err != nil {
					return fmt.Errorf("reply of %s is not the expected JSON: %w", path, err)
				}
				return nil
			case resp.StatusCode == http.StatusOK:
				c.log.Warn("reading reply failed", "path", path, "err", readErr)
			case resp.StatusCode == http.StatusTooManyRequests:
				// Rate limited: wait as long as the server asks, if it says.
				if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
					wait = time.Duration(s) * time.Second
				}
				c.log.Warn("rate limited", "path", path, "status", resp.StatusCode)
			case resp.StatusCode >= 500:
				c.log.Warn("server error", "path", path, "status", resp.StatusCode)
			case resp.StatusCode == http.StatusUnauthorized:
				return fmt.Errorf("401 %s: the token is invalid, expired or revoked, or lacks this feature; check OP_EVENTS_TOKEN and OP_EVENTS_URL", message(data))
			case resp.StatusCode == http.StatusBadRequest:
				return fmt.Errorf("400 %s: the server rejected the request; if a saved cursor is stale, delete the state file and start again", message(data))
			default:
				return fmt.Errorf("unexpected status %d %s from %s", resp.StatusCode, message(data), path)
			}
		}
		if attempt == maxAttempts {
			return fmt.Errorf("giving up on %s after %d attempts", path, attempt)
		}
		c.log.Info("retrying", "path", path, "in", wait, "attempt", attempt+1)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// message extracts the text of an error reply, {"Error":{"Message":"..."}}.
func message(body []byte) string {
	var e struct {
		Error struct{ Message string }
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		return e.Error.Message
	}
	return strings.TrimSpace(string(body))
}

// loadState reads the saved cursors, one per feature. A missing file means
// no saved cursor yet.
func loadState(path string) (map[string]string, error) {
	state := map[string]string{}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return state, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	if err := json.Unmarshal(data, &state); err != nil {
		return nil, fmt.Errorf("state file %s is not a JSON object of cursors: %w", path, err)
	}
	return state, nil
}

// saveState writes the cursors atomically: to a temporary file in the same
// directory, flushed to disk, then renamed over the old one. A crash leaves
// either the old state or the new, never half of one.
func saveState(path string, state map[string]string) error {
	data, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
