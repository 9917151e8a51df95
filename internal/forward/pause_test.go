package forward_test

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/servertest"
)

// recorder counts the events each source delivered, by uuid, and wakes
// waiters.
type recorder struct {
	forward.Sink
	mu      sync.Mutex
	got     map[string]map[string]int // source → uuid → count
	changed chan struct{}
}

func newRecorder(s forward.Sink) *recorder {
	return &recorder{Sink: s, got: map[string]map[string]int{}, changed: make(chan struct{}, 1)}
}

func (r *recorder) Write(ctx context.Context, b forward.Batch) error {
	if err := r.Sink.Write(ctx, b); err != nil {
		return err
	}
	r.mu.Lock()
	m := r.got[b.Source]
	if m == nil {
		m = map[string]int{}
		r.got[b.Source] = m
	}
	for _, ev := range b.Events {
		m[ev.UUID]++
	}
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return nil
}

// has reports whether source delivered every uuid of want.
func (r *recorder) has(source string, want map[string]bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for u := range want {
		if r.got[source][u] == 0 {
			return false
		}
	}
	return true
}

// count is how many of want source delivered.
func (r *recorder) count(source string, want map[string]bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for u := range want {
		if r.got[source][u] > 0 {
			n++
		}
	}
	return n
}

// waitFor waits until cond holds, re-checking after every delivery.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for !cond() {
		select {
		case <-r.changed:
		case <-timeout.C:
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// logWatch is a slog handler that signals each record whose message
// contains a text, with its attributes.
type logWatch struct {
	text  string
	attrs []slog.Attr
	hits  chan map[string]string
}

func (h *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (h *logWatch) WithAttrs(as []slog.Attr) slog.Handler {
	return &logWatch{text: h.text, attrs: append(append([]slog.Attr(nil), h.attrs...), as...), hits: h.hits}
}
func (h *logWatch) WithGroup(string) slog.Handler { return h }
func (h *logWatch) Handle(_ context.Context, r slog.Record) error {
	if !strings.Contains(r.Message, h.text) {
		return nil
	}
	m := map[string]string{"msg": r.Message}
	for _, a := range h.attrs {
		m[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	select {
	case h.hits <- m:
	default:
	}
	return nil
}

// swappable is a source whose token can be replaced, as the cli's source
// re-reads its token file after a 401.
type swappable struct {
	mu      sync.Mutex
	url     string
	current string
	next    string
	c       *client.Client
}

func (s *swappable) source() clientSource {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clientSource{s.c}
}

func (s *swappable) Introspect(ctx context.Context) (events.Introspection, error) {
	return s.source().Introspect(ctx)
}

func (s *swappable) Page(ctx context.Context, f events.Feature, r forward.Request) (events.RawPage, error) {
	return s.source().Page(ctx, f, r)
}

func (s *swappable) Refresh() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next == "" || subtle.ConstantTimeCompare([]byte(s.next), []byte(s.current)) == 1 {
		return false, nil
	}
	c, err := client.New(s.url, s.next)
	if err != nil {
		return false, err
	}
	s.c, s.current = c, s.next
	return true, nil
}

func revoke(t *testing.T, srv *servertest.Server, raw string) {
	t.Helper()
	ctx := context.Background()
	toks, err := srv.Store.AccountTokens(ctx, srv.Account)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(raw))
	for _, tok := range toks {
		if subtle.ConstantTimeCompare(tok.Hash, sum[:]) == 1 {
			tok.RevokedAt = time.Now().UTC().Add(-time.Second)
			if err := srv.Store.UpdateToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("token to revoke not found")
}

// TestRevokedTokenPausesOneSource: two sources read the same account of a
// real Logbook server with two tokens. One token is revoked mid-stream:
// that source's streams pause (log line and paused gauge), the other
// source keeps delivering new events. When the operator puts a new token
// in place, the paused source picks it up and catches up.
func TestRevokedTokenPausesOneSource(t *testing.T) {
	b := setup(t)
	first := appendEvents(t, b.srv, 400)
	tokA := b.srv.IssueToken(t, 0, events.AllFeatures...)
	ca, err := client.New(b.srv.URL, tokA)
	if err != nil {
		t.Fatal(err)
	}
	a := &swappable{url: b.srv.URL, current: tokA, c: ca}
	soA := b.source(t, tokA)
	soA.Name, soA.Source = "a", a
	soB := b.source(t, b.srv.Token)
	soB.Name = "b"
	for _, so := range []*forward.SourceOptions{&soA, &soB} {
		so.PollInterval = 20 * time.Millisecond
		so.Limits = forward.Limits{PerMinute: 1 << 20, PerHour: 1 << 20}
	}

	rec := newRecorder(b.fileSink(t))
	watch := &logWatch{text: "stream paused", hits: make(chan map[string]string, 16)}
	reg := prometheus.NewRegistry()
	f, err := forward.New(forward.Options{Sources: []forward.SourceOptions{soA, soB}, Sinks: []forward.Sink{rec},
		StateDir: b.state, PausedRetry: 20 * time.Millisecond, BackoffInitial: time.Millisecond, BackoffMax: 5 * time.Millisecond,
		Logger: slog.New(watch), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Errorf("Run: %v", err)
		}
	}()
	rec.waitFor(t, "both sources delivered the first events", func() bool { return rec.has("a", first) && rec.has("b", first) })

	revoke(t, b.srv, tokA)
	second := appendEvents(t, b.srv, 400)
	var hit map[string]string
	select {
	case hit = <-watch.hits:
	case <-time.After(30 * time.Second):
		t.Fatal("no \"stream paused\" log line after the revocation")
	}
	if hit["source"] != "a" || hit["status"] != "401" {
		t.Errorf("paused log line = %v, want source a and status 401", hit)
	}
	rec.waitFor(t, "source b delivered the events appended after the revocation", func() bool { return rec.has("b", second) })
	if n := rec.count("a", second); n != 0 {
		t.Errorf("source a delivered %d events after its token was revoked, want 0", n)
	}
	paused := pausedGauge(t, reg, "a", hit["feature"])
	if paused != 1 {
		t.Errorf("logbook_forward_stream_paused{source=a,feature=%s,reason=unauthorized} = %v, want 1", hit["feature"], paused)
	}

	// The operator issues a new token and puts it in place.
	a.mu.Lock()
	a.next = b.srv.IssueToken(t, 0, events.AllFeatures...)
	a.mu.Unlock()
	rec.waitFor(t, "source a caught up with its new token", func() bool { return rec.has("a", second) })
	if got := pausedGauge(t, reg, "a", hit["feature"]); got != 0 {
		t.Errorf("paused gauge after the new token = %v, want 0", got)
	}
	cp := &forward.DirCheckpoint{Dir: filepath.Join(b.state, "cursors")}
	if _, ok, err := cp.Load("a", events.AuditEvents); err != nil || !ok {
		t.Errorf("source a has no saved cursor (%v)", err)
	}
}

// pausedGauge returns logbook_forward_stream_paused{reason=unauthorized}
// of one stream (0 when absent).
func pausedGauge(t *testing.T, reg *prometheus.Registry, source, feature string) float64 {
	t.Helper()
	return metricValue(t, reg, "logbook_forward_stream_paused", map[string]string{"source": source, "feature": feature, "reason": "unauthorized"})
}

// metricValue returns the value of the gauge or counter name with exactly
// the given labels, 0 when there is none.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue metric
				}
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
