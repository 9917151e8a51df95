// Package sinktest holds what the sinks' tests share: a SinkConfig built
// from a YAML document as the forwarder's configuration hands it over, a
// Harness that opens a sink type's sinks from such documents and checks
// what their constructor refuses, checks of what a Write returned (Write,
// Rejected, Temporary), and a batch of real-looking audit events.
package sinktest

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
)

// auditEvents are v2 audit events from the Cribl pack fixture, one a line.
//
//go:embed testdata/auditevents.ndjson
var auditEvents []byte

// Config builds the SinkConfig of a sink named name of type typ from the
// YAML mapping doc, with env as its environment, through the forwarder's
// own configuration loader: doc is the sink's entry of a configuration file
// in a new t.TempDir(). An empty doc is a sink without options.
func Config(t testing.TB, name, typ, doc string, env map[string]string) forward.SinkConfig {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "source.token"), []byte("source-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := "state_dir: state\nsources:\n  - name: test\n    token_file: source.token\nsinks:\n  - name: " + name + "\n    type: " + typ + "\n"
	for line := range strings.Lines(doc) {
		file += "    " + strings.TrimSuffix(line, "\n") + "\n"
	}
	types := map[string]forward.NewSinkFunc{typ: func(forward.SinkConfig) (forward.Sink, error) { return nil, nil }}
	cfg, err := forward.ParseConfig([]byte(file), dir, types, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("configuration of sink %s: %v\n%s", name, err, file)
	}
	return cfg.Sinks[0].Config
}

// Harness builds the sinks of one type in tests the way the forwarder
// does: from a YAML mapping, through the type's constructor.
type Harness struct {
	New  forward.NewSinkFunc
	Type string            // the configuration's "type", such as "splunk_hec"
	Name string            // the sink's configured name
	Env  map[string]string // the environment secrets are read from
	Dir  string            // the configuration file's directory; "" is a new t.TempDir()
}

// Config is the SinkConfig of the YAML mapping doc.
func (h Harness) Config(t testing.TB, doc string) forward.SinkConfig {
	t.Helper()
	cfg := Config(t, h.Name, h.Type, doc, h.Env)
	if h.Dir != "" {
		cfg.Dir = h.Dir
	}
	return cfg
}

// Open builds the sink of the YAML mapping doc, failing the test when the
// constructor refuses it, and closes the sink when the test ends.
func (h Harness) Open(t testing.TB, doc string) forward.Sink {
	t.Helper()
	s, err := h.New(h.Config(t, doc))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Opener returns Open for a sink package's own tests, which call methods
// of its *Sink (S) on what the harness opens.
func Opener[S forward.Sink](h Harness) func(t testing.TB, doc string) S {
	return func(t testing.TB, doc string) S {
		t.Helper()
		return h.Open(t, doc).(S)
	}
}

// Refused checks that the constructor refuses the YAML mapping doc with an
// error that contains each of want and no value of Env (secrets never
// appear in errors). It returns the error.
func (h Harness) Refused(t testing.TB, doc string, want ...string) error {
	t.Helper()
	s, err := h.New(h.Config(t, doc))
	if err == nil {
		_ = s.Close()
		t.Fatalf("New = nil error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("New error %q lacks %q", err, w)
		}
	}
	for k, v := range h.Env {
		if v != "" && strings.Contains(err.Error(), v) {
			t.Errorf("New error contains the value of %s (the error is not shown, so neither is the secret)", k)
		}
	}
	return err
}

// Data returns the bytes of each event of b, in order, as strings.
func Data(b forward.Batch) []string {
	var out []string
	for _, ev := range b.Events {
		out = append(out, string(ev.Data))
	}
	return out
}

// AuditBatch returns a batch of the sample audit events from source "demo".
func AuditBatch(t testing.TB) forward.Batch {
	t.Helper()
	b := forward.Batch{Source: "demo", Feature: events.AuditEvents}
	sc := bufio.NewScanner(bytes.NewReader(auditEvents))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var head struct {
			UUID      string    `json:"uuid"`
			Timestamp time.Time `json:"timestamp"`
		}
		if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
			t.Fatal(err)
		}
		b.Events = append(b.Events, forward.Event{UUID: head.UUID, Time: head.Timestamp, Data: bytes.Clone(sc.Bytes())})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return b
}

// Refusal is a configuration a sink's constructor must refuse.
type Refusal struct {
	Name string   // the subtest's name
	Doc  string   // the YAML mapping
	Want []string // what the error must contain, such as "url: required"
}

// RefusedAll runs Refused on each case, each in its own subtest.
func (h Harness) RefusedAll(t *testing.T, cases []Refusal) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			h.Refused(t, c.Doc, c.Want...)
		})
	}
}

// Write writes b to s and fails the test unless s confirms every event.
func Write(t testing.TB, s forward.Sink, b forward.Batch) {
	t.Helper()
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// Rejected returns what err, the error of a Write, refused for good, and
// fails the test unless err is a *forward.RejectedError.
func Rejected(t testing.TB, err error) []forward.Rejection {
	t.Helper()
	var rej *forward.RejectedError
	if !errors.As(err, &rej) {
		t.Fatalf("Write = %v, want a RejectedError", err)
	}
	return rej.Rejected
}

// Temporary fails the test unless err, the error of a Write, asks to retry
// the batch (it is neither nil nor a *forward.RejectedError) and contains
// want.
func Temporary(t testing.TB, err error, want string) {
	t.Helper()
	var rej *forward.RejectedError
	if err == nil || errors.As(err, &rej) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Write = %v, want a temporary error with %q", err, want)
	}
}
