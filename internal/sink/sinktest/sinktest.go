// Package sinktest holds what the sinks' tests share: a SinkConfig built
// from a YAML document as the forwarder's configuration hands it over, and a
// batch of real-looking audit events.
package sinktest

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
)

// auditEvents are v2 audit events from the Cribl pack fixture, one a line.
//
//go:embed testdata/auditevents.ndjson
var auditEvents []byte

// Config builds the SinkConfig of a sink named name of type typ from the
// YAML mapping doc, with env as its environment.
func Config(t testing.TB, name, typ, doc string, env map[string]string) forward.SinkConfig {
	t.Helper()
	return forward.SinkConfig{
		Name: name,
		Type: typ,
		Decode: func(v any) error {
			dec := yaml.NewDecoder(strings.NewReader(doc))
			dec.KnownFields(true)
			return dec.Decode(v)
		},
		Dir:    t.TempDir(),
		Getenv: func(k string) string { return env[k] },
	}
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
