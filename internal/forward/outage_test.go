package forward_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/sink/httpsink"
)

// collector is an HTTP endpoint for the http sink: it answers 503 while
// down says so, and records the uuids of the NDJSON it accepts.
type collector struct {
	mu    sync.Mutex
	got   map[string]int
	fails int
	down  func() bool
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.down() {
		c.mu.Lock()
		c.fails++
		c.mu.Unlock()
		http.Error(w, "collector restarting", http.StatusServiceUnavailable)
		return
	}
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var uuids []string
	for sc.Scan() {
		var ev struct {
			UUID string `json:"uuid"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		uuids = append(uuids, ev.UUID)
	}
	c.mu.Lock()
	for _, u := range uuids {
		c.got[u]++
	}
	c.mu.Unlock()
}

func countBatches(t testing.TB, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.batch"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// TestHTTPSinkOutage: the collector is down (503) while the forwarder
// polls; pages go to the spool and the cursors move on; once the spool
// holds several batches the collector comes back, the spool drains, and
// every event arrives.
func TestHTTPSinkOutage(t *testing.T) {
	b := setup(t)
	want := appendEvents(t, b.srv, 4000) // 4,000 audit events, 1,000 sign-in attempts
	spoolDir := filepath.Join(b.state, "spool", "collector")
	var up atomic.Bool
	peak := 0
	col := &collector{got: map[string]int{}}
	col.down = func() bool {
		if up.Load() {
			return false
		}
		// Called from the sink's retries: come back once the spool has
		// filled up with several pages.
		n := countBatches(t, spoolDir)
		col.mu.Lock()
		peak = max(peak, n)
		col.mu.Unlock()
		if n >= 6 {
			up.Store(true)
			return false
		}
		return true
	}
	ts := httptest.NewServer(col)
	t.Cleanup(ts.Close)
	sink, err := httpsink.Open("collector", httpsink.Options{URL: ts.URL}, "")
	if err != nil {
		t.Fatal(err)
	}
	b.run(t, forward.Options{Sources: []forward.SourceOptions{b.source(t, b.srv.Token)}, Sinks: []forward.Sink{sink},
		SpoolMaxBytes: 64 << 20, OnceDrainTimeout: time.Minute})

	col.mu.Lock()
	defer col.mu.Unlock()
	if col.fails == 0 || peak < 6 {
		t.Errorf("collector refused %d requests and the spool held at most %d batches; want an outage that filled the spool", col.fails, peak)
	}
	t.Logf("collector refused %d requests; the spool peaked at %d batches", col.fails, peak)
	checkAll(t, want, col.got, 0)
	if n := countBatches(t, spoolDir); n != 0 {
		t.Errorf("%d batches left in the spool, want it drained", n)
	}
}

// counted counts the pages a source was asked for.
type counted struct {
	forward.Source
	pages atomic.Int64
}

func (c *counted) Page(ctx context.Context, f events.Feature, r forward.Request) (events.RawPage, error) {
	c.pages.Add(1)
	return c.Source.Page(ctx, f, r)
}

// stalled is a sink that is down until up is closed, and checks on each
// failed write (every retry of the spool's head) that the source is not
// being polled beyond what the full spool and the pages in flight hold.
type stalled struct {
	forward.Sink
	t        *testing.T
	src      *counted
	spoolDir string
	max      int64
	fails    int
	worst    int64 // most pages fetched beyond the spooled ones
	up       chan struct{}
}

func (s *stalled) Write(ctx context.Context, b forward.Batch) error {
	select {
	case <-s.up:
		return s.Sink.Write(ctx, b)
	default:
	}
	s.fails++
	if s.fails >= 40 {
		m, _ := filepath.Glob(filepath.Join(s.spoolDir, "*.batch"))
		var size int64
		for _, f := range m {
			if info, err := os.Stat(f); err == nil {
				size += info.Size()
			}
		}
		if size > s.max {
			s.t.Errorf("spool holds %d bytes, more than its bound %d", size, s.max)
		}
		s.worst = max(s.worst, s.src.pages.Load()-int64(len(m)))
		if s.fails == 80 {
			close(s.up)
		}
	}
	return errors.New("sink down")
}

// TestSpoolFullPausesPolling: with the sink down and a spool that holds
// only a few pages, the stream stops asking the source for pages (beyond
// the spooled ones, at most the page the stream waits on, the one queued
// and the one the fetcher holds); when the sink comes back, everything is
// delivered.
func TestSpoolFullPausesPolling(t *testing.T) {
	b := setup(t)
	want := appendAudit(t, b.srv, 0, 4000, time.Now().UTC().Add(-time.Hour))
	so := b.source(t, b.srv.Token)
	so.Features = []events.Feature{events.AuditEvents}
	so.Limit = 100
	src := &counted{Source: so.Source}
	so.Source = src
	const spoolMax = 256 << 10 // four pages of 100 events of ~660 bytes
	sink := &stalled{Sink: b.fileSink(t), t: t, src: src, spoolDir: filepath.Join(b.state, "spool", "archive"), max: spoolMax, up: make(chan struct{})}
	b.run(t, forward.Options{Sources: []forward.SourceOptions{so}, Sinks: []forward.Sink{sink}, SpoolMaxBytes: spoolMax, OnceDrainTimeout: time.Minute})

	t.Logf("sink failed %d times; at most %d pages fetched beyond the spooled ones", sink.fails, sink.worst)
	if sink.worst > 3 {
		t.Errorf("while the spool was full the source was polled for %d pages beyond the spooled ones, want at most 3", sink.worst)
	}
	if sink.worst < 1 {
		t.Errorf("pages fetched beyond the spool = %d: the spool never filled", sink.worst)
	}
	if n := src.pages.Load(); n < 40 {
		t.Errorf("source asked for %d pages, want all 40 after the sink came back", n)
	}
	checkAll(t, want, readUUIDs(t, b.out), 0)
}
