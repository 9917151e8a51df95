package nats

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/sink/sinktest"
	"github.com/logbookhq/logbook/internal/testenv"
)

// natsURL is the JetStream server the tests use; LOGBOOK_TEST_NATS_URL
// overrides the default.
func natsURL() string {
	if u := os.Getenv("LOGBOOK_TEST_NATS_URL"); u != "" {
		return u
	}
	return testenv.DefaultNATSURL
}

// testBundle is one test's stream on the real server.
type testBundle struct {
	js      jetstream.JetStream
	stream  string // unique per test
	subject string // subject template, unique per test
}

// setup connects to the real NATS server (skipping, or failing under CI,
// when there is none) and picks a stream name and subjects no other test
// uses; the stream is deleted when the test ends.
func setup(t *testing.T) testBundle {
	t.Helper()
	url := testenv.NATSURL(t) // skips (fails under CI) when there is none
	nc, err := natsgo.Connect(url, natsgo.Timeout(2*time.Second))
	if err != nil {
		testenv.Unavailable(t, "NATS at %s: %v (LOGBOOK_TEST_NATS_URL names the server)", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	id := strings.ToLower(events.NewID()[:10])
	tb := testBundle{js: js, stream: "LOGBOOKTEST_" + strings.ToUpper(id), subject: "logbooktest." + id + ".{feature}"}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := js.DeleteStream(ctx, tb.stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("delete stream %s: %v", tb.stream, err)
		}
	})
	return tb
}

// harness builds sinks from YAML the way the configuration file hands it
// to New.
var harness = sinktest.Harness{New: New, Type: "nats", Name: "jetstream", Env: map[string]string{"NATS_PW": "s3cret-nats-pw"}}

var newTestSink = sinktest.Opener[*Sink](harness)

type storedMsg struct {
	Subject string
	MsgID   string
	Data    string
}

// stored reads every message of the stream, in order.
func (tb testBundle) stored(t *testing.T) []storedMsg {
	t.Helper()
	st, err := tb.js.Stream(t.Context(), tb.stream)
	if err != nil {
		t.Fatalf("stream %s: %v", tb.stream, err)
	}
	info, err := st.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []storedMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(t.Context(), seq)
		if err != nil {
			t.Fatalf("get message %d: %v", seq, err)
		}
		out = append(out, storedMsg{Subject: m.Subject, MsgID: m.Header.Get(jetstream.MsgIDHeader), Data: string(m.Data)})
	}
	return out
}

func want(b forward.Batch, subject string) []storedMsg {
	out := make([]storedMsg, len(b.Events))
	for i, ev := range b.Events {
		out[i] = storedMsg{Subject: subject, MsgID: ev.UUID, Data: string(ev.Data)}
	}
	return out
}

func TestWriteDuplicateBatchStoredOnce(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	s := newTestSink(t, fmt.Sprintf("url: %s\nsubject: %s\nstream: %s\ncreate_stream: true\nstorage: memory\n", natsURL(), tb.subject, tb.stream))
	b := sinktest.AuditBatch(t)
	for i := range 3 {
		if err := s.Write(t.Context(), b); err != nil {
			t.Fatalf("Write #%d: %v", i+1, err)
		}
	}
	subject := strings.Replace(tb.subject, "{feature}", "auditevents", 1)
	if diff := cmp.Diff(want(b, subject), tb.stored(t)); diff != "" {
		t.Errorf("stream content differs (-want +got):\n%s", diff)
	}
	// A partly new batch: only the new event is added.
	extra := forward.Event{UUID: events.NewID(), Data: []byte(`{"uuid":"new"}`)}
	b2 := b
	b2.Events = append([]forward.Event{extra}, b.Events[:2]...)
	sinktest.Write(t, s, b2)
	got := tb.stored(t)
	if len(got) != len(b.Events)+1 || got[len(got)-1].MsgID != extra.UUID {
		t.Errorf("after a partly new batch the stream holds %d messages ending with %+v, want %d ending with the new one", len(got), got[len(got)-1], len(b.Events)+1)
	}
}

func TestWriteFeatureSubjects(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := t.Context()
	// An operator's stream, made beforehand: the sink must not need create.
	subjects := strings.Replace(tb.subject, "{feature}", "*", 1)
	if _, err := tb.js.CreateStream(ctx, jetstream.StreamConfig{Name: tb.stream, Subjects: []string{subjects}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	s := newTestSink(t, fmt.Sprintf("url: %s\nsubject: %s\nstream: %s\n", natsURL(), tb.subject, tb.stream))
	b := sinktest.AuditBatch(t)
	var all []storedMsg
	for _, f := range events.AllFeatures {
		fb := forward.Batch{Source: b.Source, Feature: f, Events: b.Events[:2]}
		if err := s.Write(ctx, fb); err != nil {
			t.Fatalf("Write %s: %v", f, err)
		}
		all = append(all, want(fb, strings.Replace(tb.subject, "{feature}", string(f), 1))...)
	}
	// Same uuids on other subjects are still duplicates of one stream: a
	// message id is unique per stream, not per subject.
	if diff := cmp.Diff(all[:2], tb.stored(t)); diff != "" {
		t.Errorf("stream content differs (-want +got):\n%s", diff)
	}
}

func TestWriteRejectsOversized(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	s := newTestSink(t, fmt.Sprintf("url: %s\nsubject: %s\nstream: %s\ncreate_stream: true\nstorage: memory\nmax_msg_size: 2048\n", natsURL(), tb.subject, tb.stream))
	b := sinktest.AuditBatch(t)
	big := forward.Event{UUID: events.NewID(), Data: []byte(`{"pad":"` + strings.Repeat("x", 4096) + `"}`)}
	b.Events = append(b.Events[:2:2], big, b.Events[2])
	if rej := sinktest.Rejected(t, s.Write(t.Context(), b)); len(rej) != 1 || rej[0].Index != 2 || !strings.Contains(rej[0].Reason, "exceeds maximum") {
		t.Errorf("rejected = %+v, want event 2 as too large", rej)
	}
	got := tb.stored(t)
	wantMsgs := want(b, strings.Replace(tb.subject, "{feature}", "auditevents", 1))
	wantMsgs = append(wantMsgs[:2:2], wantMsgs[3])
	if diff := cmp.Diff(wantMsgs, got); diff != "" {
		t.Errorf("stream content differs (-want +got):\n%s", diff)
	}
}

func TestWriteTemporaryErrors(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{"no stream on the subject", fmt.Sprintf("url: %s\nsubject: %s\ntimeout: 5s\n", natsURL(), tb.subject), "not stored"},
		{"stream missing", fmt.Sprintf("url: %s\nsubject: %s\nstream: %s\n", natsURL(), tb.subject, tb.stream), "does not exist (set create_stream"},
		{"no server", "url: nats://127.0.0.1:1\ntimeout: 2s\n", "nats: connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSink(t, tt.doc)
			sinktest.Temporary(t, s.Write(t.Context(), sinktest.AuditBatch(t)), tt.wantErr)
		})
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	harness.RefusedAll(t, []sinktest.Refusal{
		{Name: "bad url", Doc: "url: http://x:4222\n", Want: []string{"url: \"http://x:4222\" is not a nats://"}},
		{Name: "wildcard subject", Doc: "subject: logbook.*\n", Want: []string{"subject: must not contain wildcards"}},
		{Name: "partial placeholder", Doc: "subject: logbook.x{feature}\n", Want: []string{"subject: placeholder in \"x{feature}\" must be a whole token"}},
		{Name: "empty token", Doc: "subject: logbook..x\n", Want: []string{"subject: has an empty token"}},
		{Name: "create without stream", Doc: "create_stream: true\n", Want: []string{"create_stream: needs stream"}},
		{Name: "dotted stream", Doc: "stream: a.b\n", Want: []string{"stream: \"a.b\" must not contain"}},
		{Name: "bad storage", Doc: "stream: A\nstorage: disk\n", Want: []string{"storage: \"disk\" must be file or memory"}},
		{Name: "password without user", Doc: "password_env: NATS_PW\n", Want: []string{"user: required"}},
		{Name: "unset env", Doc: "token_env: NOPE\n", Want: []string{"token_env: environment variable NOPE is not set"}},
		{Name: "missing creds", Doc: "creds_file: nope.creds\n", Want: []string{"creds_file:"}},
		{Name: "cert without key", Doc: "cert_file: c.pem\n", Want: []string{"cert_file, key_file: give both"}},
	})
}

// BenchmarkWrite publishes pages of 1,000 distinct events to the real
// JetStream (memory storage) and waits for every PubAck.
func BenchmarkWrite(b *testing.B) {
	nc, err := natsgo.Connect(natsURL(), natsgo.Timeout(2*time.Second))
	if err != nil {
		b.Skipf("no NATS server at %s: %v", natsURL(), err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	id := strings.ToLower(events.NewID()[:10])
	stream := "LOGBOOKBENCH_" + strings.ToUpper(id)
	defer func() { _ = js.DeleteStream(context.Background(), stream) }()
	s := newTestSink(b, fmt.Sprintf("url: %s\nsubject: logbookbench.%s.{feature}\nstream: %s\ncreate_stream: true\nstorage: memory\n", natsURL(), id, stream))
	sample := sinktest.AuditBatch(b)
	page := forward.Batch{Source: "bench", Feature: events.AuditEvents, Events: make([]forward.Event, 1000)}
	b.SetBytes(int64(len(sample.Events[0].Data)) * int64(len(page.Events)))
	for b.Loop() {
		for i := range page.Events {
			page.Events[i] = forward.Event{UUID: events.NewID(), Data: sample.Events[i%len(sample.Events)].Data}
		}
		if err := s.Write(b.Context(), page); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(page.Events))/b.Elapsed().Seconds(), "events/s")
}
