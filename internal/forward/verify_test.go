package forward_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
)

// verifiedSource is the bundle's source of audit events with verify on.
func (b *testBundle) verifiedSource(t *testing.T, limit int) forward.SourceOptions {
	t.Helper()
	keys := b.srv.TreeKeys(t)
	so := b.source(t, b.srv.Token)
	so.Features = []events.Feature{events.AuditEvents}
	so.Limit = limit
	c := so.Source.(clientSource).c
	so.Verify = forward.NewWitnessVerifier(keys, func() *client.Client { return c })
	return so
}

// auditN stores audit events first … first+n-1, an hour old, and returns
// their uuids in order.
func auditN(t *testing.T, b *testBundle, first, n int) []string {
	t.Helper()
	start := time.Now().UTC().Add(-time.Hour)
	var uuids []string
	for i := first; i < first+n; i++ {
		u := fmt.Sprintf("AU%024d", i)
		b.srv.Append(t, &events.AuditEvent{UUID: u, Timestamp: start.Add(time.Duration(i) * time.Millisecond),
			ActorUUID: "ACTOR0000000000000000000AB", Action: "join", ObjectType: "user", ObjectUUID: events.Str(fmt.Sprintf("OBJ%023d", i))})
		uuids = append(uuids, u)
	}
	return uuids
}

func (b *testBundle) sign(t *testing.T) {
	t.Helper()
	if _, err := b.srv.Heads.Sign(t.Context(), b.srv.Account, events.AuditEvents); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyTampered: with verify on, the pages before a changed event
// are delivered, the page holding it is not, the source stops with an
// error naming the event, and the cursor stays after the last good page.
func TestVerifyTampered(t *testing.T) {
	b := setup(t)
	uuids := auditN(t, b, 0, 9)
	b.sign(t)
	b.srv.Tamper(t, events.AuditEvents, uuids[4], "OBJ00000000000000000000004", "OBJ00000000000000000000005")
	f, err := forward.New(forward.Options{StateDir: b.state, Once: true, BackoffInitial: time.Millisecond, BackoffMax: 5 * time.Millisecond,
		Sources: []forward.SourceOptions{b.verifiedSource(t, 3)}, Sinks: []forward.Sink{b.fileSink(t)}})
	if err != nil {
		t.Fatal(err)
	}
	err = f.Run(t.Context())
	var pe *forward.PermanentError
	if !errors.As(err, &pe) || !errors.Is(err, client.ErrMismatch) || !strings.Contains(err.Error(), uuids[4]) {
		t.Fatalf("Run = %v, want a PermanentError wrapping client.ErrMismatch naming %s", err, uuids[4])
	}
	got := readUUIDs(t, b.out)
	if len(got) != 3 || got[uuids[0]] != 1 || got[uuids[2]] != 1 {
		t.Fatalf("delivered %v, want the first page's 3 events", got)
	}
	st, ok, err := forward.Cursors(b.state).Load("demo", events.AuditEvents)
	if err != nil || !ok || st.Events != 3 {
		t.Fatalf("checkpoint = %+v, %v, %v: want 3 events", st, ok, err)
	}
}

// TestVerifyWaitsForHead: events stored after the newest signed head are
// held until a head covers them, then delivered.
func TestVerifyWaitsForHead(t *testing.T) {
	b := setup(t)
	want := map[string]bool{}
	for _, u := range auditN(t, b, 0, 4) {
		want[u] = true
	}
	b.sign(t)
	for _, u := range auditN(t, b, 4, 3) {
		want[u] = true
	}
	waiting := make(chan struct{})
	log := slog.New(notify{msg: "waiting for a signed tree head that covers the page", ch: waiting})
	f, err := forward.New(forward.Options{StateDir: b.state, Once: true, Logger: log, BackoffInitial: time.Millisecond, BackoffMax: 5 * time.Millisecond,
		Sources: []forward.SourceOptions{b.verifiedSource(t, 1000)}, Sinks: []forward.Sink{b.fileSink(t)}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.Run(t.Context()) }()
	select {
	case <-waiting:
	case err := <-done:
		t.Fatalf("Run ended before waiting for a head: %v", err)
	}
	if got := readUUIDs(t, b.out); len(got) != 0 {
		t.Fatalf("delivered %d events before a head covers them", len(got))
	}
	b.sign(t)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := readUUIDs(t, b.out)
	checkAll(t, want, got, 0)
	if len(got) != len(want) {
		t.Fatalf("delivered %d events, want %d", len(got), len(want))
	}
}

// keptHeads reads the tree heads the forwarder kept for source demo.
func keptHeads(t *testing.T, b *testBundle, keys client.TreeKeys) []client.SignedHead {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.state, "heads", "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var jws []string
	if err := json.Unmarshal(data, &jws); err != nil {
		t.Fatal(err)
	}
	var heads []client.SignedHead
	for _, j := range jws {
		h, err := client.VerifyHead(j, keys)
		if err != nil {
			t.Fatal(err)
		}
		heads = append(heads, h)
	}
	return heads
}

// TestVerifyKeepsHeads: the heads a verifying source accepted are kept in
// the state directory and, checked again with the tree keys, start the
// next run, whose heads must extend them; a kept head that does not
// verify stops the forwarder from starting.
func TestVerifyKeepsHeads(t *testing.T) {
	b := setup(t)
	keys := b.srv.TreeKeys(t)
	run := func() error {
		f, err := forward.New(forward.Options{StateDir: b.state, Once: true, BackoffInitial: time.Millisecond, BackoffMax: 5 * time.Millisecond,
			Sources: []forward.SourceOptions{b.verifiedSource(t, 1000)}, Sinks: []forward.Sink{b.fileSink(t)}})
		if err != nil {
			return err
		}
		return f.Run(t.Context())
	}
	auditN(t, b, 0, 4)
	b.sign(t)
	if err := run(); err != nil {
		t.Fatal(err)
	}
	if h := keptHeads(t, b, keys); len(h) != 1 || h[0].TreeSize != 4 || h[0].Feature != events.AuditEvents {
		t.Fatalf("kept heads = %+v, want the audit head of size 4", h)
	}
	auditN(t, b, 4, 2)
	b.sign(t)
	if err := run(); err != nil {
		t.Fatal(err)
	}
	if h := keptHeads(t, b, keys); len(h) != 1 || h[0].TreeSize != 6 {
		t.Fatalf("kept heads = %+v, want the audit head of size 6", h)
	}
	if got := readUUIDs(t, b.out); len(got) != 6 {
		t.Fatalf("delivered %d events, want 6", len(got))
	}

	file := filepath.Join(b.state, "heads", "demo.json")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.LastIndexByte(data, '.') + 2 // in the signature
	data[i] ^= 1
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(); !errors.Is(err, client.ErrMismatch) || !strings.Contains(err.Error(), "demo.json") {
		t.Fatalf("run with an edited head kept = %v, want ErrMismatch naming the file", err)
	}
}

// notify is a slog handler that closes ch at the first record with
// message msg.
type notify struct {
	msg string
	ch  chan struct{}
}

func (n notify) Enabled(context.Context, slog.Level) bool { return true }
func (n notify) Handle(_ context.Context, r slog.Record) error {
	if r.Message == n.msg {
		select {
		case <-n.ch:
		default:
			close(n.ch)
		}
	}
	return nil
}
func (n notify) WithAttrs([]slog.Attr) slog.Handler { return n }
func (n notify) WithGroup(string) slog.Handler      { return n }
