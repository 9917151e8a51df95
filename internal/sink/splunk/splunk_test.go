package splunk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/sink/sinktest"
)

const testToken = "0f2a6c3e-5b1d-4e8f-9a7c-1d2e3f4a5b6c"

// harness builds sinks from YAML the way the configuration file hands it
// to New.
var harness = sinktest.Harness{New: New, Type: "splunk_hec", Name: "hec", Env: map[string]string{"HEC_TOKEN": testToken}}

var newTestSink = sinktest.Opener[*Sink](harness)

// newHECSink starts a HEC, with indexer acknowledgement when ack, and
// opens a sink on it with the options extra besides url and token_env.
// The sink does not connect before its first Write, so a test may still
// set up the server.
func newHECSink(t testing.TB, ack bool, extra string) (*hecServer, *Sink) {
	t.Helper()
	srv := newHECServer(t, testToken, ack)
	return srv, newTestSink(t, fmt.Sprintf("url: %s\ntoken_env: HEC_TOKEN\n%s", srv.URL, extra))
}

func eventsOf(got []hecEvent) []string {
	out := make([]string, len(got))
	for i, e := range got {
		out[i] = string(e.Event)
	}
	return out
}

func dataOf(b forward.Batch) []string {
	out := make([]string, len(b.Events))
	for i, e := range b.Events {
		out[i] = string(e.Data)
	}
	return out
}

// wantIndexed checks that srv indexed exactly the events want (their
// data, in order).
func wantIndexed(t *testing.T, srv *hecServer, want []string) {
	t.Helper()
	got, _, _, _ := srv.snapshot()
	if diff := cmp.Diff(want, eventsOf(got)); diff != "" {
		t.Errorf("indexed events differ (-want +got):\n%s", diff)
	}
}

func TestWriteFields(t *testing.T) {
	t.Parallel()
	srv, s := newHECSink(t, false, `
index: security
host: forwarder-1
sourcetypes:
  itemusages: custom:items
`)
	b := sinktest.AuditBatch(t)
	sinktest.Write(t, s, b)
	got, _, _, _ := srv.snapshot()
	if diff := cmp.Diff(dataOf(b), eventsOf(got)); diff != "" {
		t.Fatalf("indexed events differ (-want +got):\n%s", diff)
	}
	first := got[0]
	first.Event = nil
	want := hecEvent{
		Time:       "1753728556.504514", // 2025-07-28T18:49:16.504514981Z
		Host:       "forwarder-1",
		Source:     "logbook:demo",
		SourceType: "1password:events:auditevents",
		Index:      "security",
	}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("event fields differ (-want +got):\n%s", diff)
	}

	b.Feature = events.ItemUsages
	sinktest.Write(t, s, b)
	got, _, _, _ = srv.snapshot()
	if st := got[len(got)-1].SourceType; st != "custom:items" {
		t.Errorf("sourcetype = %q, want custom:items", st)
	}
}

func TestWriteGzipAndSplit(t *testing.T) {
	t.Parallel()
	srv, s := newHECSink(t, false, "gzip: true\nmax_request_bytes: 2000\n")
	b := sinktest.AuditBatch(t)
	sinktest.Write(t, s, b)
	wantIndexed(t, srv, dataOf(b))
	_, requests, _, gzipped := srv.snapshot()
	if requests < 2 || gzipped != requests {
		t.Errorf("requests = %d, gzipped = %d; want several requests, all gzipped", requests, gzipped)
	}
}

func TestWriteTooLarge(t *testing.T) {
	t.Parallel()
	srv, s := newHECSink(t, false, "")
	srv.maxBytes = 1500
	b := sinktest.AuditBatch(t)
	big := forward.Event{UUID: "BIGBIGBIGBIGBIGBIGBIGBIGBI", Data: []byte(`{"uuid":"BIGBIGBIGBIGBIGBIGBIGBIGBI","pad":"` + strings.Repeat("x", 2000) + `"}`)}
	b.Events = append(b.Events[:3:3], big, b.Events[3])
	if rej := sinktest.Rejected(t, s.Write(t.Context(), b)); len(rej) != 1 || rej[0].Index != 3 || !strings.Contains(rej[0].Reason, "413") {
		t.Errorf("rejected = %+v, want index 3 for 413", rej)
	}
	want := dataOf(b)
	wantIndexed(t, srv, append(want[:3:3], want[4]))
}

func TestWriteAck(t *testing.T) {
	t.Parallel()
	srv, s := newHECSink(t, true, "ack: true\nack_poll_interval: 1ms\nmax_request_bytes: 3000\n")
	srv.ackAfter = 3 // "not yet" three times
	b := sinktest.AuditBatch(t)
	sinktest.Write(t, s, b)
	_, requests, polls, _ := srv.snapshot()
	if polls != 4 {
		t.Errorf("ack polls = %d, want 4 (three 'not yet', then acked)", polls)
	}
	if requests < 2 {
		t.Errorf("requests = %d, want several ackIds to wait for", requests)
	}
	wantIndexed(t, srv, dataOf(b))
}

func TestWriteAckTimeout(t *testing.T) {
	t.Parallel()
	srv, s := newHECSink(t, true, "ack: true\nack_poll_interval: 1ms\nack_timeout: 20ms\n")
	srv.ackAfter = 1 << 30 // never
	sinktest.Temporary(t, s.Write(t.Context(), sinktest.AuditBatch(t)), "not acknowledged")
}

func TestWriteAckCancelled(t *testing.T) {
	t.Parallel()
	srv, s := newHECSink(t, true, "ack: true\nack_poll_interval: 1h\n")
	srv.ackAfter = 1 << 30
	srv.pollc = make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(t.Context())
	// The first poll says "not yet"; cancel while Write waits for the next.
	done := make(chan error, 1)
	b := sinktest.AuditBatch(t)
	go func() { done <- s.Write(ctx, b) }()
	<-srv.pollc
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Write = %v, want context.Canceled", err)
	}
}

func TestWriteAckDisabledOnToken(t *testing.T) {
	t.Parallel()
	_, s := newHECSink(t, false, "ack: true\n")
	err := s.Write(t.Context(), sinktest.AuditBatch(t))
	if err == nil || !strings.Contains(err.Error(), "no ackId") {
		t.Fatalf("Write = %v, want an error about the missing ackId", err)
	}
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(*hecServer)
		token   string
		extra   string
		wantErr string
	}{
		{name: "server busy", setup: func(s *hecServer) { s.busy = 1 }, token: testToken, wantErr: "503 Server is busy (code 9)"},
		{name: "invalid token", token: "wrong-token", wantErr: "403 Invalid token (code 4)"},
		{name: "incorrect index", setup: func(s *hecServer) { s.indexes = map[string]bool{"main": true} }, token: testToken, extra: "index: secret\n", wantErr: "400 Incorrect index (code 7)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newHECServer(t, testToken, false)
			if tt.setup != nil {
				tt.setup(srv)
			}
			h := harness
			h.Env = map[string]string{"HEC_TOKEN": tt.token}
			s := h.Open(t, fmt.Sprintf("url: %s\ntoken_env: HEC_TOKEN\n%s", srv.URL, tt.extra))
			err := s.Write(t.Context(), sinktest.AuditBatch(t))
			var hecErr *HECError
			if !errors.As(err, &hecErr) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Write = %v, want a HECError with %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), tt.token) {
				t.Errorf("error %q contains the token", err)
			}
			if got, _, _, _ := srv.snapshot(); len(got) != 0 {
				t.Errorf("indexed %d events after an error, want 0", len(got))
			}
		})
	}
}

func TestWriteBusyThenRecovers(t *testing.T) {
	t.Parallel()
	srv, s := newHECSink(t, true, "ack: true\nack_poll_interval: 1ms\n")
	srv.busy = 1
	b := sinktest.AuditBatch(t)
	if err := s.Write(t.Context(), b); err == nil {
		t.Fatal("Write with a busy server = nil, want an error")
	}
	sinktest.Write(t, s, b) // the second time
	wantIndexed(t, srv, dataOf(b))
}

func TestWriteRejectsBadEvent(t *testing.T) {
	t.Parallel()
	srv, s := newHECSink(t, true, "ack: true\nack_poll_interval: 1ms\n")
	b := sinktest.AuditBatch(t)
	b.Events[1].Data = []byte(`""`) // HEC: "Event field cannot be blank"
	b.Events[4].Data = []byte(`null`)
	rej := sinktest.Rejected(t, s.Write(t.Context(), b))
	want := []forward.Rejection{
		{Index: 1, Reason: "splunk hec: Event field cannot be blank (code 13)"},
		{Index: 4, Reason: "splunk hec: Event field cannot be blank (code 13)"},
	}
	if diff := cmp.Diff(want, rej); diff != "" {
		t.Errorf("rejections differ (-want +got):\n%s", diff)
	}
	all := dataOf(b)
	wantIndexed(t, srv, []string{all[0], all[2], all[3], all[5]})
}

func TestEncodeEventTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ev   forward.Event
		want string
	}{
		{"nanoseconds truncated", forward.Event{Time: time.Date(2025, 7, 28, 18, 49, 16, 504514981, time.UTC), Data: []byte(`{}`)}, `{"time":1753728556.504514,"event":{}}` + "\n"},
		{"whole second", forward.Event{Time: time.Unix(1700000000, 0), Data: []byte(`{}`)}, `{"time":1700000000.000000,"event":{}}` + "\n"},
		{"no time", forward.Event{Data: []byte(`{"a":1}`)}, `{"event":{"a":1}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(encodeEvent([]byte(`,"event":`), tt.ev)); got != tt.want {
				t.Errorf("encodeEvent = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	harness.RefusedAll(t, []sinktest.Refusal{
		{Name: "missing url and token", Doc: "index: main\n", Want: []string{"url: required", "token_file or token_env: one is required"}},
		{Name: "bad scheme", Doc: "url: ftp://x\ntoken_env: HEC_TOKEN\n", Want: []string{"url: must be an http or https URL"}},
		{Name: "bad channel", Doc: "url: http://x\ntoken_env: HEC_TOKEN\nchannel: nope\n", Want: []string{"channel: must be a GUID"}},
		{Name: "negative timeout", Doc: "url: http://x\ntoken_env: HEC_TOKEN\ntimeout: -1s\n", Want: []string{"timeout: must not be negative"}},
		{Name: "unknown feature", Doc: "url: http://x\ntoken_env: HEC_TOKEN\nsourcetypes: {logins: x}\n", Want: []string{`sourcetypes: unknown feature "logins"`}},
		{Name: "unset env", Doc: "url: http://x\ntoken_env: NOT_SET\n", Want: []string{"token_env: environment variable NOT_SET is not set"}},
		{Name: "unknown key", Doc: "url: http://x\ntoken_env: HEC_TOKEN\nsource_type: x\n", Want: []string{"source_type"}},
		{Name: "missing ca file", Doc: "url: https://x\ntoken_env: HEC_TOKEN\nca_file: nope.pem\n", Want: []string{"ca_file:"}},
	})
}

// BenchmarkWrite sends pages of 1,000 events to the in-process HEC with
// gzip and indexer acknowledgement (acked on the first poll).
func BenchmarkWrite(b *testing.B) {
	_, s := newHECSink(b, true, "ack: true\ngzip: true\nack_poll_interval: 1ms\n")
	sample := sinktest.AuditBatch(b)
	page := forward.Batch{Source: "bench", Feature: events.AuditEvents}
	for i := range 1000 {
		page.Events = append(page.Events, sample.Events[i%len(sample.Events)])
	}
	for b.Loop() {
		if err := s.Write(b.Context(), page); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(page.Events))/b.Elapsed().Seconds(), "events/s")
}
