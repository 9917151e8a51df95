package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	_ "github.com/ncruces/go-sqlite3/driver"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/servertest"
)

// BenchmarkServePages serves 1,000-event pages over HTTP to four
// concurrent clients, from two servers holding the same events:
//
//   - bare: the baseline, a plain net/http handler that selects 1,000 rows
//     from a two-column SQLite table (same driver) and splices them into
//     the envelope, with no authentication and a plain-number cursor;
//   - logbook: the real server, with token verification, sealed cursors,
//     the real schema and the time filter.
//
// It reports events/s, p50/p99 request latency and allocations per page.
// Run: go test -run '^$' -bench BenchmarkServePages -benchtime 2000x ./internal/api
func BenchmarkServePages(b *testing.B) {
	const total = 50_000
	srv := servertest.Start(b, servertest.Options{})
	start := time.Now().Add(-48 * time.Hour)
	evs := make([]any, 0, total)
	for i := range total {
		evs = append(evs, benchEvent(i, start.Add(time.Duration(i)*time.Second)))
	}
	srv.Append(b, evs...)
	bare := bareServer(b, evs)

	b.Run("bare", func(b *testing.B) {
		runPages(b, bare.URL+"/page", "", func(cursor string) string {
			if cursor == "" {
				cursor = "0"
			}
			return cursor
		})
	})
	b.Run("logbook", func(b *testing.B) {
		runPages(b, srv.URL+"/api/v2/signinattempts", srv.Token, func(cursor string) string {
			if cursor == "" {
				return `{"limit":1000,"start_time":"` + start.Add(-time.Hour).UTC().Format(time.RFC3339) + `"}`
			}
			return `{"cursor":"` + cursor + `"}`
		})
	})
}

func benchEvent(i int, t time.Time) *events.SignInAttempt {
	ev := signIn(i, t.UTC())
	ev.UUID = events.NewID()
	ev.SessionUUID = events.NewID()
	return ev
}

// runPages has four clients page through a stream, wrapping around at its
// end; one b.N iteration is one page request.
func runPages(b *testing.B, url, token string, body func(cursor string) string) {
	const clients = 4
	var (
		mu        sync.Mutex
		latencies []time.Duration
		items     int
	)
	work := make(chan struct{})
	var wg sync.WaitGroup
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cursor := ""
			var buf bytes.Buffer
			for range work {
				t0 := time.Now()
				req, _ := http.NewRequest("POST", url, bytes.NewBufferString(body(cursor)))
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				res, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				buf.Reset()
				_, err = io.Copy(&buf, res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != 200 {
					b.Errorf("status %d, %v: %.200s", res.StatusCode, err, buf.Bytes())
					return
				}
				d := time.Since(t0)
				next, more, n := scanEnvelope(buf.Bytes())
				cursor = next
				if !more {
					cursor = ""
				}
				mu.Lock()
				latencies = append(latencies, d)
				items += n
				mu.Unlock()
			}
		}()
	}
	b.ReportAllocs()
	b.ResetTimer()
	t0 := time.Now()
	for b.Loop() {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(t0)
	b.StopTimer()
	slices.Sort(latencies)
	if len(latencies) > 0 {
		b.ReportMetric(float64(items)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// scanEnvelope reads the cursor and has_more at the start of a page and
// counts its items by their "uuid" keys, without decoding the page.
func scanEnvelope(p []byte) (cursor string, more bool, n int) {
	const pre = `{"cursor":"`
	if bytes.HasPrefix(p, []byte(pre)) {
		rest := p[len(pre):]
		end := bytes.IndexByte(rest, '"')
		cursor = string(rest[:end])
		more = bytes.HasPrefix(rest[end:], []byte(`","has_more":true`))
	}
	n = bytes.Count(p, []byte(`{"uuid":`))
	return cursor, more, n
}

// bareServer is the baseline: the same events in a plain SQLite table,
// served by splicing rows after a numeric cursor.
func bareServer(b *testing.B, evs []any) *httptest.Server {
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(b.TempDir(), "bare.db")+"?_pragma=journal_mode(wal)&_pragma=synchronous(normal)")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(8)
	b.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE ev (seq INTEGER PRIMARY KEY, data BLOB NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, ev := range evs {
		w, err := events.Encode(ev)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ev (data) VALUES (?)`, w.V2); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	pool := sync.Pool{New: func() any { return new(bytes.Buffer) }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		after, _ := strconv.ParseInt(string(body), 10, 64)
		rows, err := db.QueryContext(r.Context(), `SELECT seq, data FROM ev WHERE seq > ? ORDER BY seq LIMIT 1001`, after)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer rows.Close()
		buf := pool.Get().(*bytes.Buffer)
		defer pool.Put(buf)
		buf.Reset()
		var items bytes.Buffer
		n, last, more := 0, after, false
		for rows.Next() {
			if n == 1000 {
				more = true
				break
			}
			var seq int64
			var data sql.RawBytes
			if err := rows.Scan(&seq, &data); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			if n > 0 {
				items.WriteByte(',')
			}
			items.Write(data)
			n, last = n+1, seq
		}
		fmt.Fprintf(buf, `{"cursor":"%d","has_more":%t,"items":[`, last, more)
		buf.Write(items.Bytes())
		buf.WriteString("]}")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		_, _ = w.Write(buf.Bytes())
	}))
	b.Cleanup(srv.Close)
	return srv
}
