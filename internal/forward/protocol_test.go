package forward_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
)

// fakeAPI is an in-process Events API that follows the protocol: cursors
// are positions, has_more is true while events remain, the end of the
// stream echoes the request's cursor, and it can answer 401 or 429.
type fakeAPI struct {
	mu       sync.Mutex
	events   map[events.Feature][][]byte
	status   map[events.Feature]int // forced status for a feature
	requests atomic.Int64
	times    []time.Time
}

func newFakeAPI(n int) *fakeAPI {
	f := &fakeAPI{events: map[events.Feature][][]byte{}, status: map[events.Feature]int{}}
	ts := time.Now().UTC().Add(-time.Hour)
	for i := range n {
		f.events[events.AuditEvents] = append(f.events[events.AuditEvents], fmt.Appendf(nil,
			`{"uuid":"%s","timestamp":"%s","actor_uuid":"IR7VJHJ36JHINBFAD7V2T5MP3E","actor_details":{"uuid":"IR7VJHJ36JHINBFAD7V2T5MP3E","name":"Test User","email":"userA@example.com"},"action":"create","object_type":"device","session":{"uuid":"ODOHXUYQCJBUJKRGZNNPBJURPE","login_time":"2024-12-02T11:54:19.693369325Z","device_uuid":"rqtd557fn2husnstp5nc66w2xa","ip":"8.8.8.8"},"location":{"country":"Israel","region":"Tel Aviv","city":"Tel Aviv","latitude":32.0803,"longitude":34.7805}}`,
			fmt.Sprintf("E%025d", i), ts.Add(time.Duration(i)*time.Microsecond).Format(time.RFC3339Nano)))
	}
	return f
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	f.mu.Lock()
	f.times = append(f.times, time.Now())
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if r.URL.Path == "/api/v2/auth/introspect" {
		fmt.Fprint(w, `{"uuid":"INT","issued_at":"2024-01-01T00:00:00Z","features":["auditevents","signinattempts"],"account_uuid":"ACC"}`)
		return
	}
	ft := events.Feature(filepath.Base(r.URL.Path))
	var body struct {
		Cursor string `json:"cursor"`
		Limit  int    `json:"limit"`
	}
	json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	st := f.status[ft]
	evs := f.events[ft]
	f.mu.Unlock()
	if st != 0 {
		if st == 429 {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(st)
		fmt.Fprintf(w, `{"Error":{"Message":"%s"}}`, http.StatusText(st))
		return
	}
	pos, limit := 0, 100
	if body.Cursor != "" {
		// cursor = "pos:limit"
		fmt.Sscanf(body.Cursor, "%d:%d", &pos, &limit)
	} else if body.Limit > 0 {
		limit = body.Limit
	}
	end := min(pos+limit, len(evs))
	var buf bytes.Buffer
	buf.Grow((end - pos) * 700)
	cursor := strconv.Itoa(end) + ":" + strconv.Itoa(limit)
	if pos >= len(evs) && body.Cursor != "" {
		cursor = body.Cursor
	}
	fmt.Fprintf(&buf, `{"cursor":%q,"has_more":%v,"items":[`, cursor, end < len(evs))
	for i := pos; i < end; i++ {
		if i > pos {
			buf.WriteByte(',')
		}
		buf.Write(evs[i])
	}
	buf.WriteString("]}")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}

func (f *fakeAPI) source(t testing.TB, name, url string) forward.SourceOptions {
	c, err := client.New(url, "token")
	if err != nil {
		t.Fatal(err)
	}
	return forward.SourceOptions{Name: name, Source: clientSource{c}, StartTime: time.Now().Add(-24 * time.Hour), Limit: 1000,
		PollInterval: time.Millisecond, Limits: forward.Limits{PerMinute: 1 << 20, PerHour: 1 << 20}}
}

func TestFakeAPIToFile(t *testing.T) {
	api := newFakeAPI(5000)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	b := &testBundle{state: filepath.Join(t.TempDir(), "state"), out: filepath.Join(t.TempDir(), "out.ndjson")}
	b.run(t, forward.Options{Sources: []forward.SourceOptions{api.source(t, "fake", srv.URL)}, Sinks: []forward.Sink{b.fileSink(t)}})
	got := readUUIDs(t, b.out)
	want := map[string]bool{}
	for i := range 5000 {
		want[fmt.Sprintf("E%025d", i)] = true
	}
	checkAll(t, want, got, 0)
}

// TestUnauthorizedPausesOneStream: auditevents answers 401, signinattempts
// goes on.
func TestUnauthorizedPausesOneStream(t *testing.T) {
	api := newFakeAPI(0)
	for i := range 300 {
		api.events[events.SignInAttempts] = append(api.events[events.SignInAttempts], fmt.Appendf(nil, `{"uuid":"S%d","timestamp":"2025-01-01T00:00:00Z"}`, i))
	}
	api.status[events.AuditEvents] = 401
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	b := &testBundle{state: filepath.Join(t.TempDir(), "state"), out: filepath.Join(t.TempDir(), "out.ndjson")}
	sink := &counting{Sink: b.fileSink(t), want: 300, done: make(chan struct{})}
	opts := forward.Options{Sources: []forward.SourceOptions{api.source(t, "fake", srv.URL)}, Sinks: []forward.Sink{sink},
		StateDir: b.state, PausedRetry: time.Hour}
	f, err := forward.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	select {
	case <-sink.done:
	case err := <-done:
		t.Fatalf("Run ended early: %v", err)
	}
	cp := &forward.DirCheckpoint{Dir: filepath.Join(b.state, "cursors")}
	if err := f.Ready(); err == nil {
		t.Error("Ready() = nil while auditevents is paused, want an error")
	}
	cancel()
	<-done
	if _, ok, _ := cp.Load("fake", events.AuditEvents); ok {
		t.Error("auditevents saved a cursor although every request got 401")
	}
	if got := len(readUUIDs(t, b.out)); got != 300 {
		t.Errorf("%d sign-in attempts forwarded, want 300", got)
	}
}

// BenchmarkForwardToFile measures end-to-end events/s from an in-process
// Events API to the file sink (fsync per page).
func BenchmarkForwardToFile(b *testing.B) {
	const n = 200_000
	api := newFakeAPI(n)
	srv := httptest.NewServer(api)
	b.Cleanup(srv.Close)
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		tb := &testBundle{state: filepath.Join(dir, "state"), out: filepath.Join(dir, "out.ndjson")}
		opts := forward.Options{Sources: []forward.SourceOptions{api.source(b, "fake", srv.URL)}, Sinks: []forward.Sink{tb.fileSink(b)}}
		b.StartTimer()
		cpu0 := cpuTime()
		tb.run(b, opts)
		cpu += cpuTime() - cpu0
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "events/cpu-s")
}

// counting closes done once want events were confirmed.
type counting struct {
	forward.Sink
	n, want int
	done    chan struct{}
}

func (c *counting) Write(ctx context.Context, b forward.Batch) error {
	if err := c.Sink.Write(ctx, b); err != nil {
		return err
	}
	if c.n < c.want && c.n+len(b.Events) >= c.want {
		close(c.done)
	}
	c.n += len(b.Events)
	return nil
}
