package forward_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/servertest"
	"github.com/logbookhq/logbook/internal/sink/file"
)

// clientSource adapts the public client, as internal/cli does.
type clientSource struct{ c *client.Client }

func (s clientSource) Introspect(ctx context.Context) (events.Introspection, error) {
	in, err := s.c.Introspect(ctx)
	return in, srcErr(err)
}

func (s clientSource) Page(ctx context.Context, f events.Feature, r forward.Request) (events.RawPage, error) {
	p, err := s.c.RawPage(ctx, f, client.Request{Cursor: r.Cursor, Reset: events.ResetCursor{Limit: r.Limit, StartTime: r.Start, EndTime: r.End}})
	return p, srcErr(err)
}

func (s clientSource) PageInto(ctx context.Context, f events.Feature, r forward.Request, buf []byte) (events.RawPage, []byte, error) {
	p, buf, err := s.c.RawPageInto(ctx, f, client.Request{Cursor: r.Cursor, Reset: events.ResetCursor{Limit: r.Limit, StartTime: r.Start, EndTime: r.End}}, buf)
	return p, buf, srcErr(err)
}

func srcErr(err error) error {
	var ce *client.Error
	if errors.As(err, &ce) {
		return &forward.SourceError{StatusCode: ce.StatusCode, RetryAfter: ce.RetryAfter, Err: err}
	}
	return err
}

// appendEvents stores n audit events and n/4 sign-in attempts with recent
// timestamps and returns their uuids.
func appendEvents(t testing.TB, srv *servertest.Server, n int) map[string]bool {
	t.Helper()
	uuids := map[string]bool{}
	now := time.Now().UTC().Add(-time.Hour)
	var evs []any
	for i := range n {
		a := &events.AuditEvent{UUID: events.NewID(), Timestamp: now.Add(time.Duration(i) * time.Millisecond),
			ActorUUID: "ACTOR0000000000000000000AB", Action: "join", ObjectType: "user", ObjectUUID: events.Str("OBJ00000000000000000000ABC")}
		evs = append(evs, a)
		uuids[a.UUID] = true
		if i%4 == 0 {
			s := &events.SignInAttempt{UUID: events.NewID(), SessionUUID: events.NewID(), Timestamp: now.Add(time.Duration(i) * time.Millisecond),
				Country: "CA", Category: "success", Type: "credentials_ok",
				TargetUser: events.User{UUID: events.NewID(), Name: "A", Email: "a@example.com"},
				Client:     events.Client{AppName: "1Password for Web", AppVersion: "1", PlatformName: "Chrome", PlatformVersion: "1", OSName: "Linux", OSVersion: "6", IPAddress: "192.0.2.1"}}
			evs = append(evs, s)
			uuids[s.UUID] = true
		}
	}
	if got := srv.Append(t, evs...); got != len(evs) {
		t.Fatalf("Append stored %d events, want %d", got, len(evs))
	}
	return uuids
}

// readUUIDs returns how many times each uuid appears in the NDJSON files
// (gzipped when the name ends in .gz).
func readUUIDs(t testing.TB, paths ...string) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, p := range paths {
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		if strings.HasSuffix(p, ".gz") {
			zr, err := gzip.NewReader(f)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			r = zr
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev struct {
				UUID string `json:"uuid"`
			}
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("%s: line %q: %v", p, sc.Bytes(), err)
			}
			got[ev.UUID]++
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	return got
}

func checkAll(t testing.TB, want map[string]bool, got map[string]int, maxDup int) {
	t.Helper()
	missing, dups := 0, 0
	for u := range want {
		if got[u] == 0 {
			missing++
		}
		if got[u] > 1 {
			dups += got[u] - 1
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d events missing", missing, len(want))
	}
	if dups > maxDup {
		t.Errorf("%d duplicates, want at most %d", dups, maxDup)
	}
}

type testBundle struct {
	srv   *servertest.Server
	state string
	out   string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	srv := servertest.Start(t, servertest.Options{})
	dir := t.TempDir()
	return &testBundle{srv: srv, state: filepath.Join(dir, "state"), out: filepath.Join(dir, "events.ndjson")}
}

func (b *testBundle) source(t testing.TB, token string) forward.SourceOptions {
	t.Helper()
	c, err := client.New(b.srv.URL, token)
	if err != nil {
		t.Fatal(err)
	}
	return forward.SourceOptions{Name: "demo", Source: clientSource{c}, StartTime: time.Now().Add(-24 * time.Hour), Limit: 500,
		PollInterval: time.Millisecond}
}

func (b *testBundle) run(t testing.TB, opts forward.Options) {
	t.Helper()
	opts.StateDir = b.state
	opts.Once = true
	opts.BackoffInitial, opts.BackoffMax = time.Millisecond, 5*time.Millisecond
	f, err := forward.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Run(t.Context()); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func (b *testBundle) fileSink(t testing.TB) forward.Sink {
	t.Helper()
	s, err := file.Open("archive", file.Options{Path: b.out})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestForwardToFile(t *testing.T) {
	b := setup(t)
	want := appendEvents(t, b.srv, 2000)
	b.run(t, forward.Options{Sources: []forward.SourceOptions{b.source(t, b.srv.Token)}, Sinks: []forward.Sink{b.fileSink(t)}})
	got := readUUIDs(t, b.out)
	checkAll(t, want, got, 0)
	if len(got) != len(want) {
		t.Errorf("file holds %d distinct events, want %d", len(got), len(want))
	}

	// A second run resumes from the saved cursors: only the new events.
	more := appendEvents(t, b.srv, 300)
	b.run(t, forward.Options{Sources: []forward.SourceOptions{b.source(t, b.srv.Token)}, Sinks: []forward.Sink{b.fileSink(t)}})
	for u := range more {
		want[u] = true
	}
	got = readUUIDs(t, b.out)
	checkAll(t, want, got, 0)

	cp := &forward.DirCheckpoint{Dir: filepath.Join(b.state, "cursors")}
	all, err := cp.All()
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, st := range all {
		total += st.Events
		if st.Cursor == "" {
			t.Errorf("%s/%s saved no cursor", st.Source, st.Feature)
		}
	}
	if total != int64(len(want)) {
		t.Errorf("states count %d events, want %d", total, len(want))
	}
}

// flaky is a sink that fails while down; a fake, because a local file
// cannot be made to fail on demand (the tests run as root).
type flaky struct {
	forward.Sink
	down   atomic.Bool
	fails  atomic.Int64
	reject string // uuid to refuse for good
	mu     sync.Mutex
}

func (f *flaky) Write(ctx context.Context, b forward.Batch) error {
	if f.down.Load() {
		f.fails.Add(1)
		return errors.New("sink down")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, ev := range b.Events {
		if ev.UUID == f.reject {
			keep := append(append([]forward.Event(nil), b.Events[:i]...), b.Events[i+1:]...)
			if err := f.Sink.Write(ctx, forward.Batch{Source: b.Source, Feature: b.Feature, Events: keep}); err != nil {
				return err
			}
			return &forward.RejectedError{Rejected: []forward.Rejection{{Index: i, Reason: "refused by test"}}}
		}
	}
	return f.Sink.Write(ctx, b)
}

func TestOutageSpoolsThenDelivers(t *testing.T) {
	b := setup(t)
	want := appendEvents(t, b.srv, 1500)
	sink := &flaky{Sink: b.fileSink(t)}
	sink.down.Store(true)
	b.run(t, forward.Options{Sources: []forward.SourceOptions{b.source(t, b.srv.Token)}, Sinks: []forward.Sink{sink},
		SpoolMaxBytes: 64 << 20, OnceDrainTimeout: 50 * time.Millisecond})
	if sink.fails.Load() == 0 {
		t.Fatal("the sink was never called while down")
	}
	if got := readUUIDs(t, b.out); len(got) != 0 {
		t.Fatalf("%d events written while the sink was down", len(got))
	}
	spooled, _ := filepath.Glob(filepath.Join(b.state, "spool", "archive", "*.batch"))
	if len(spooled) == 0 {
		t.Fatal("nothing spooled while the sink was down")
	}

	// Back up: the next run drains the spool; the cursors had moved on, so
	// nothing is fetched twice.
	var reject string
	for u := range want {
		reject = u
		break
	}
	sink2 := &flaky{Sink: b.fileSink(t), reject: reject}
	b.run(t, forward.Options{Sources: []forward.SourceOptions{b.source(t, b.srv.Token)}, Sinks: []forward.Sink{sink2}, SpoolMaxBytes: 64 << 20})
	delete(want, reject)
	checkAll(t, want, readUUIDs(t, b.out), 0)
	if left, _ := filepath.Glob(filepath.Join(b.state, "spool", "archive", "*.batch")); len(left) != 0 {
		t.Errorf("%d batches left in the spool", len(left))
	}
	dl, err := os.ReadFile(filepath.Join(b.state, "dead-letters", "archive.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var letter struct{ UUID, Reason string }
	if err := json.Unmarshal(dl, &letter); err != nil || letter.UUID != reject || letter.Reason != "refused by test" {
		t.Errorf("dead letter = %s (%v), want uuid %s with the reason", dl, err, reject)
	}
}
