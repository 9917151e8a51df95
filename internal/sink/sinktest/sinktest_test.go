package sinktest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/logbookhq/logbook/internal/forward"
)

// recorder is a testing.TB that records failures instead of reporting
// them, so the harness's own checks can be tested.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// run calls f with a recorder in its own goroutine (Fatalf ends it) and
// returns the failures.
func run(t *testing.T, f func(testing.TB)) []string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.failed
}

type nopSink struct{ closed *bool }

func (nopSink) Name() string                               { return "nop" }
func (nopSink) Write(context.Context, forward.Batch) error { return nil }
func (s nopSink) Close() error                             { *s.closed = true; return nil }

// failSink is a sink whose Write returns err.
type failSink struct{ err error }

func (failSink) Name() string                                 { return "fail" }
func (s failSink) Write(context.Context, forward.Batch) error { return s.err }
func (failSink) Close() error                                 { return nil }

func TestHarness(t *testing.T) {
	var closed bool
	h := Harness{
		Type: "test", Name: "t", Env: map[string]string{"TOKEN": "s3cret-value"},
		New: func(cfg forward.SinkConfig) (forward.Sink, error) {
			var o struct {
				URL      string `yaml:"url"`
				TokenEnv string `yaml:"token_env"`
				Leak     bool   `yaml:"leak"`
			}
			if err := cfg.Decode(&o); err != nil {
				return nil, err
			}
			tok, err := cfg.OptionalSecret("token", "", o.TokenEnv)
			if err != nil {
				return nil, err
			}
			switch {
			case o.Leak:
				return nil, errors.New("url: bad for token " + tok)
			case o.URL == "":
				return nil, errors.New("url: required")
			}
			return nopSink{&closed}, nil
		},
	}
	tests := []struct {
		name string
		f    func(testing.TB)
		want []string // substrings of the failures, in order; none: it passes
	}{
		{"open", func(t testing.TB) { h.Open(t, "url: x\n") }, nil},
		{"open refused", func(t testing.TB) { h.Open(t, "") }, []string{"New: url: required"}},
		{"refused", func(t testing.TB) { h.Refused(t, "token_env: TOKEN\n", "url: required") }, nil},
		{"refused, other reason", func(t testing.TB) { h.Refused(t, "", "url: required", "token") }, []string{`lacks "token"`}},
		{"accepted", func(t testing.TB) { h.Refused(t, "url: x\n", "url:") }, []string{"New = nil error"}},
		{"unknown key", func(t testing.TB) { h.Refused(t, "colour: red\n", "colour") }, nil},
		{"secret in error", func(t testing.TB) { h.Refused(t, "leak: true\ntoken_env: TOKEN\n", "url: bad") }, []string{"contains the value of TOKEN"}},
		{"opener", func(t testing.TB) { Opener[nopSink](h)(t, "url: x\n") }, nil},
		{"write", func(t testing.TB) { Write(t, failSink{nil}, AuditBatch(t)) }, nil},
		{"write failed", func(t testing.TB) { Write(t, failSink{errors.New("503 busy")}, AuditBatch(t)) }, []string{"Write: 503 busy"}},
		{"rejected", func(t testing.TB) {
			if got := Rejected(t, fmt.Errorf("w: %w", &forward.RejectedError{Rejected: []forward.Rejection{{Index: 2}}})); len(got) != 1 || got[0].Index != 2 {
				t.Errorf("Rejected = %+v, want index 2", got)
			}
		}, nil},
		{"rejected, temporary", func(t testing.TB) { Rejected(t, errors.New("503 busy")) }, []string{"want a RejectedError"}},
		{"rejected, nil", func(t testing.TB) { Rejected(t, nil) }, []string{"want a RejectedError"}},
		{"temporary", func(t testing.TB) { Temporary(t, errors.New("503 busy"), "busy") }, nil},
		{"temporary, nil", func(t testing.TB) { Temporary(t, nil, "") }, []string{"want a temporary error"}},
		{"temporary, rejected", func(t testing.TB) { Temporary(t, &forward.RejectedError{}, "") }, []string{"want a temporary error"}},
		{"temporary, other text", func(t testing.TB) { Temporary(t, errors.New("503 busy"), "dial") }, []string{`want a temporary error with "dial"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, tt.f)
			if len(got) != len(tt.want) {
				t.Fatalf("failures = %q, want %d like %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("failure %q lacks %q", got[i], w)
				}
				if strings.Contains(got[i], "s3cret-value") {
					t.Errorf("failure %q shows the secret", got[i])
				}
			}
		})
	}
	if !closed {
		t.Error("the sink Open built was not closed when its test ended")
	}
}

func TestAuditBatch(t *testing.T) {
	b := AuditBatch(t)
	if len(b.Events) == 0 || b.Source != "demo" {
		t.Fatalf("AuditBatch = %d events from %q, want some from demo", len(b.Events), b.Source)
	}
	for i, ev := range b.Events {
		if ev.UUID == "" || ev.Time.IsZero() || !strings.Contains(string(ev.Data), ev.UUID) {
			t.Errorf("event %d = uuid %q, time %v; want both read from its data", i, ev.UUID, ev.Time)
		}
	}
}
