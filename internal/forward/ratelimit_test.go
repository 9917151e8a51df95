package forward_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/sink/file"
)

// stormAPI is an in-process forward.Source that follows the Events API's
// rate limiting: requests number from to through storm answer 429 with a
// Retry-After, and any request sent before the last Retry-After elapsed
// is answered 429 again and counted as a violation. A fake, because a
// real server cannot be made to answer 429 on demand; it runs inside a
// synctest bubble, so its clock is the fake one.
type stormAPI struct {
	retryAfter time.Duration
	from, to   int // 1-based request numbers answered 429

	mu         sync.Mutex
	events     []json.RawMessage
	times      []time.Time // every page request
	until      time.Time   // no request before this (Retry-After)
	violations []string
	limited    int
}

func (s *stormAPI) Introspect(context.Context) (events.Introspection, error) {
	return events.Introspection{UUID: "INT", Features: []events.Feature{events.AuditEvents}, AccountUUID: "ACC"}, nil
}

func (s *stormAPI) Page(_ context.Context, f events.Feature, r forward.Request) (events.RawPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.times = append(s.times, now)
	n := len(s.times)
	if now.Before(s.until) {
		s.violations = append(s.violations, fmt.Sprintf("request %d at %v, %v before Retry-After elapsed", n, now, s.until.Sub(now)))
	}
	if now.Before(s.until) || (n >= s.from && n <= s.to) {
		s.limited++
		s.until = now.Add(s.retryAfter)
		return events.RawPage{}, &forward.SourceError{StatusCode: 429, RetryAfter: s.retryAfter, Err: errors.New("429 Too Many Requests")}
	}
	pos := 0
	if r.Cursor != "" {
		pos, _ = strconv.Atoi(r.Cursor)
	}
	end := min(pos+100, len(s.events)) // the cursor keeps the reset's limit of 100
	return events.RawPage{Cursor: strconv.Itoa(end), HasMore: end < len(s.events), Items: s.events[pos:end]}, nil
}

// TestRateLimitStorm: ten 429s in a row with Retry-After 7s, inside a
// budget of 10 requests a minute. The forwarder never asks again before
// Retry-After elapsed, no 60-second window holds more than 10 requests,
// and every event is delivered in the end. Fake time (synctest): the test
// takes milliseconds.
func TestRateLimitStorm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &stormAPI{retryAfter: 7 * time.Second, from: 3, to: 12}
		want := map[string]bool{}
		for i := range 3000 {
			u := fmt.Sprintf("E%025d", i)
			want[u] = true
			api.events = append(api.events, json.RawMessage(fmt.Sprintf(`{"uuid":%q,"timestamp":"2026-01-01T00:00:00Z","action":"join"}`, u)))
		}
		dir := t.TempDir()
		out := filepath.Join(dir, "out.ndjson")
		sink, err := file.Open("archive", file.Options{Path: out})
		if err != nil {
			t.Fatal(err)
		}
		const perMinute = 10
		start := time.Now()
		f, err := forward.New(forward.Options{
			Sources: []forward.SourceOptions{{Name: "storm", Source: api, StartTime: start.Add(-time.Hour), Limit: 100,
				PollInterval: time.Second, Limits: forward.Limits{PerMinute: perMinute, PerHour: 1000}}},
			Sinks: []forward.Sink{sink}, StateDir: filepath.Join(dir, "state"), Once: true,
			BackoffInitial: time.Second, BackoffMax: 30 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Run(t.Context()); err != nil {
			t.Fatalf("Run: %v", err)
		}
		api.mu.Lock()
		defer api.mu.Unlock()
		for _, v := range api.violations {
			t.Error(v)
		}
		if api.limited != 10 {
			t.Errorf("%d requests answered 429, want the 10 of the storm", api.limited)
		}
		for i := perMinute; i < len(api.times); i++ {
			if d := api.times[i].Sub(api.times[i-perMinute]); d < time.Minute {
				t.Errorf("requests %d and %d are %v apart: %d requests in less than a minute, budget %d", i-perMinute+1, i+1, d, perMinute+1, perMinute)
			}
		}
		// 30 pages + the 10 refused requests at 10 a minute: at least 3
		// minutes of (fake) time.
		if d := time.Since(start); d < 3*time.Minute {
			t.Errorf("forwarding took %v, want at least 3m under a budget of %d a minute", d, perMinute)
		}
		checkAll(t, want, readUUIDs(t, out), 0)
	})
}
