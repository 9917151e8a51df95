package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/ncruces/go-sqlite3"
	_ "github.com/ncruces/go-sqlite3/driver"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/servertest"
	"github.com/logbookhq/logbook/internal/testenv"
)

// BenchmarkServe measures Logbook's Events API side by side with bare
// servers holding the same events, in one run, on each store:
//
//   - memory: the page answered from a slice of encoded events in memory
//     (what HTTP and the envelope cost, with no store at all);
//   - bare: a plain net/http handler on the same driver's fastest API
//     (ncruces' direct sqlite3.Conn with one prepared statement per
//     connection, or pgx's raw values on a pool), a two-column table
//     (position, v2 bytes), a plain-number cursor and no authentication,
//     splicing the rows into the same envelope;
//   - database/sql (SQLite only): the earlier, weaker baseline, the same
//     table through database/sql's row scanning;
//   - logbook: the real server (servertest), with token verification
//     (signature cached, the token's row read every request), the rate
//     limiter, the serving window, sealed cursors and the real schema.
//
// Two workloads, four concurrent clients each:
//
//   - pages: 1,000-event pages through 50,000 stored sign-in attempts,
//     wrapping around at the end;
//   - polls: every client holds the cursor at the head of the stream and
//     polls it again as soon as it is answered (the empty page a drained
//     connector gets every few seconds, most of a real server's traffic).
//
// b.N is the number of requests each path serves, in rounds that
// alternate the paths (in a rotating order), so a change in the machine's
// load hits all of them alike. It reports each path's rate (events/s for
// pages, req/s for polls), Logbook's ratio to each baseline (x-bare,
// x-memory, x-sql), Logbook's p50 and p99 latency, and allocations per
// request of each path (client and server: they share the process).
//
// Run (PostgreSQL from LOGBOOK_TEST_POSTGRES_URL, or the local default):
//
//	go test -run '^$' -bench BenchmarkServe -benchtime 1500x -count 3 ./internal/api
func BenchmarkServe(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			f := newServeFixture(b, backend)
			b.Run("pages", func(b *testing.B) { f.compare(b, false) })
			b.Run("polls", func(b *testing.B) { f.compare(b, true) })
		})
	}
}

const (
	serveTotal   = 50_000
	serveClients = 4
	serveRounds  = 3
)

// target is one server under load: how to ask it for the page after a
// cursor, and the cursor at the head of its stream.
type target struct {
	name  string
	url   string
	token string
	body  func(cursor string) string
	head  string
}

type serveFixture struct {
	targets []target // logbook first
}

func newServeFixture(b *testing.B, backend string) *serveFixture {
	opts := servertest.Options{}
	if backend == "postgres" {
		opts.DB = testenv.PostgresSchema(b)
	}
	srv := servertest.Start(b, opts)
	start := time.Now().Add(-48 * time.Hour)
	evs := make([]any, 0, serveTotal)
	data := make([][]byte, 0, serveTotal)
	for i := range serveTotal {
		ev := benchEvent(i, start.Add(time.Duration(i)*time.Second))
		w, err := events.Encode(ev)
		if err != nil {
			b.Fatal(err)
		}
		evs, data = append(evs, ev), append(data, w.V2)
	}
	srv.Append(b, evs...)
	if backend == "postgres" {
		// The bare table is vacuumed and analyzed after its load; so are
		// Logbook's tables, or the planner, with no statistics for the day
		// partitions just filled, sorts a bitmap scan of the page's whole
		// position window (about 5 ms a page) instead of reading 1,001
		// rows in index order, until autovacuum gets to them.
		pool, err := pgxpool.New(context.Background(), opts.DB)
		if err != nil {
			b.Fatal(err)
		}
		_, err = pool.Exec(context.Background(), `VACUUM ANALYZE events, event_hours, event_appends, streams, tokens`)
		pool.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	plain := func(cursor string) string {
		if cursor == "" {
			cursor = "0"
		}
		return `{"cursor":"` + cursor + `"}`
	}
	last := strconv.Itoa(serveTotal)
	lb := target{name: "logbook", url: srv.URL + "/api/v2/signinattempts", token: srv.Token, body: func(cursor string) string {
		if cursor == "" {
			return `{"limit":1000,"start_time":"` + start.Add(-time.Hour).UTC().Format(time.RFC3339) + `"}`
		}
		return `{"cursor":"` + cursor + `"}`
	}}
	lb.head = headCursor(b, lb)
	f := &serveFixture{targets: []target{lb}}
	var bare *httptest.Server
	if backend == "postgres" {
		bare = barePostgres(b, data)
	} else {
		bare = bareSQLite(b, data)
	}
	f.targets = append(f.targets,
		target{name: "bare", url: bare.URL, body: plain, head: last},
		target{name: "memory", url: memoryServer(b, data).URL, body: plain, head: last})
	if backend == "sqlite" {
		f.targets = append(f.targets, target{name: "sql", url: bareDatabaseSQL(b, data).URL, body: plain, head: last})
	}
	return f
}

// headCursor pages through t from the start and returns the cursor of its
// last page: where a drained connector polls.
func headCursor(b *testing.B, t target) string {
	hc := &http.Client{}
	cursor := ""
	const most = 100_000
	for range most {
		page, err := fetch(hc, t, cursor)
		if err != nil {
			b.Fatal(err)
		}
		next, more, _ := scanEnvelope(page)
		cursor = next
		if !more {
			return cursor
		}
	}
	b.Fatalf("%s: still has_more after %d pages", t.name, most)
	return ""
}

func fetch(hc *http.Client, t target, cursor string) ([]byte, error) {
	req, err := http.NewRequest("POST", t.url, bytes.NewBufferString(t.body(cursor)))
	if err != nil {
		return nil, err
	}
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("%s: status %d: %.200s", t.name, res.StatusCode, body)
	}
	return body, nil
}

// tally is what one path served over all rounds.
type tally struct {
	requests, items int
	elapsed         time.Duration
	mallocs         uint64
	latencies       []time.Duration
}

func (f *serveFixture) compare(b *testing.B, polls bool) {
	tallies := make([]tally, len(f.targets))
	b.ResetTimer()
	for round := range serveRounds {
		n := b.N / serveRounds
		if round == serveRounds-1 {
			n = b.N - n*(serveRounds-1)
		}
		for k := range f.targets {
			i := (k + round) % len(f.targets)
			load(b, f.targets[i], n, polls, &tallies[i])
		}
	}
	b.StopTimer()
	unit := "events/s"
	rate := func(t tally) float64 { return float64(t.items) / t.elapsed.Seconds() }
	if polls {
		unit = "req/s"
		rate = func(t tally) float64 { return float64(t.requests) / t.elapsed.Seconds() }
	}
	lb := tallies[0]
	for i, t := range f.targets {
		if tallies[i].requests == 0 {
			continue
		}
		b.ReportMetric(rate(tallies[i]), t.name+"-"+unit)
		b.ReportMetric(float64(tallies[i].mallocs)/float64(tallies[i].requests), t.name+"-allocs/req")
		if i > 0 && rate(tallies[i]) > 0 {
			b.ReportMetric(rate(lb)/rate(tallies[i]), "x-"+t.name)
		}
	}
	slices.Sort(lb.latencies)
	if len(lb.latencies) > 0 {
		b.ReportMetric(float64(lb.latencies[len(lb.latencies)/2].Microseconds())/1000, "logbook-p50-ms")
		b.ReportMetric(float64(lb.latencies[len(lb.latencies)*99/100].Microseconds())/1000, "logbook-p99-ms")
	}
}

// load has serveClients clients send n requests to t in all: pages through
// the stream (wrapping around at its end), or polls at its head. Every
// answer must be a 200; a poll's must be empty and keep the cursor.
func load(b *testing.B, t target, n int, polls bool, into *tally) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		work = make(chan struct{})
		hc   = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: serveClients}}
	)
	defer hc.CloseIdleConnections()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	for range serveClients {
		wg.Go(func() {
			cursor := ""
			if polls {
				cursor = t.head
			}
			var lat []time.Duration
			items, failed := 0, false
			for range work {
				if failed {
					continue // keep taking work, so the sender is not left blocked
				}
				t1 := time.Now()
				page, err := fetch(hc, t, cursor)
				if err != nil {
					b.Error(err)
					failed = true
					continue
				}
				lat = append(lat, time.Since(t1))
				next, more, k := scanEnvelope(page)
				items += k
				switch {
				case polls && (k != 0 || next != t.head):
					b.Errorf("%s: a poll at the head got %d events and cursor %q", t.name, k, next)
				case polls:
				case more:
					cursor = next
				default:
					cursor = ""
				}
			}
			mu.Lock()
			into.latencies = append(into.latencies, lat...)
			into.items += items
			mu.Unlock()
		})
	}
	for range n {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	into.elapsed += time.Since(t0)
	runtime.ReadMemStats(&after)
	into.mallocs += after.Mallocs - before.Mallocs
	into.requests += n
}

func benchEvent(i int, t time.Time) *events.SignInAttempt {
	ev := signIn(i, t.UTC())
	ev.UUID = events.NewID()
	ev.SessionUUID = events.NewID()
	return ev
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

// bareHandler is what the bare servers share: the request's plain-number cursor
// in, the envelope out, with rows appended by next until it reports none
// left or 1,000 are in (a 1,001st means has_more).
func bareHandler(rows func(ctx context.Context, after int64, emit func(seq int64, data []byte) bool) error) http.Handler {
	pool := sync.Pool{New: func() any { return new(bytes.Buffer) }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		// {"cursor":"N"}
		digits := bytes.TrimSuffix(bytes.TrimPrefix(bytes.TrimSpace(body), []byte(`{"cursor":"`)), []byte(`"}`))
		after, err := strconv.ParseInt(string(digits), 10, 64)
		if err != nil {
			http.Error(w, "cursor: "+err.Error(), 400)
			return
		}
		items := pool.Get().(*bytes.Buffer)
		defer pool.Put(items)
		items.Reset()
		n, last, more := 0, after, false
		err = rows(r.Context(), after, func(seq int64, data []byte) bool {
			if n == 1000 {
				more = true
				return false
			}
			if n > 0 {
				items.WriteByte(',')
			}
			items.Write(data)
			n, last = n+1, seq
			return true
		})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		buf := pool.Get().(*bytes.Buffer)
		defer pool.Put(buf)
		buf.Reset()
		buf.WriteString(`{"cursor":"`)
		buf.WriteString(strconv.FormatInt(last, 10))
		buf.WriteString(`","has_more":`)
		buf.WriteString(strconv.FormatBool(more))
		buf.WriteString(`,"items":[`)
		buf.Write(items.Bytes())
		buf.WriteString("]}")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		_, _ = w.Write(buf.Bytes())
	})
}

func serveBare(b *testing.B, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return srv
}

// memoryServer answers from the encoded events in memory.
func memoryServer(b *testing.B, data [][]byte) *httptest.Server {
	return serveBare(b, bareHandler(func(_ context.Context, after int64, emit func(int64, []byte) bool) error {
		for i := int(after); i < len(data) && emit(int64(i+1), data[i]); i++ {
		}
		return nil
	}))
}

const (
	bareSchema = `CREATE TABLE ev (seq INTEGER PRIMARY KEY, data BLOB NOT NULL)`
	bareSelect = `SELECT seq, data FROM ev WHERE seq > ? ORDER BY seq LIMIT 1001`
)

// bareSQLiteDB makes the bare table in a new SQLite file, with the
// store's journal mode, and returns its path.
func bareSQLiteDB(b *testing.B, data [][]byte) string {
	path := filepath.Join(b.TempDir(), "bare.db")
	c, err := sqlite3.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Exec(`PRAGMA journal_mode=wal; ` + bareSchema + `; BEGIN`); err != nil {
		b.Fatal(err)
	}
	ins, _, err := c.Prepare(`INSERT INTO ev (data) VALUES (?)`)
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range data {
		if err := ins.BindBlob(1, d); err != nil {
			b.Fatal(err)
		}
		if err := ins.Exec(); err != nil {
			b.Fatal(err)
		}
	}
	if err := ins.Close(); err != nil {
		b.Fatal(err)
	}
	if err := c.Exec(`COMMIT`); err != nil {
		b.Fatal(err)
	}
	return path
}

// bareSQLite serves the bare table through ncruces' direct API: a pool of
// connections, each with its statement prepared once, rows read as raw
// blobs without copying them out of SQLite before the splice.
func bareSQLite(b *testing.B, data [][]byte) *httptest.Server {
	path := bareSQLiteDB(b, data)
	type conn struct {
		c  *sqlite3.Conn
		st *sqlite3.Stmt
	}
	conns := make(chan conn, 8)
	for range cap(conns) {
		c, err := sqlite3.OpenFlags(path, sqlite3.OPEN_READONLY)
		if err != nil {
			b.Fatal(err)
		}
		st, _, err := c.Prepare(bareSelect)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close(); c.Close() })
		conns <- conn{c, st}
	}
	return serveBare(b, bareHandler(func(ctx context.Context, after int64, emit func(int64, []byte) bool) error {
		c := <-conns
		defer func() { conns <- c }()
		defer c.st.Reset()
		if err := c.st.BindInt64(1, after); err != nil {
			return err
		}
		for c.st.Step() && emit(c.st.ColumnInt64(0), c.st.ColumnRawBlob(1)) {
		}
		return c.st.Err()
	}))
}

// bareDatabaseSQL serves the bare table through database/sql (the same
// driver), scanning each row: the baseline this benchmark used before
// issue 19, kept to show what the direct API saves.
func bareDatabaseSQL(b *testing.B, data [][]byte) *httptest.Server {
	db, err := sql.Open("sqlite3", "file:"+bareSQLiteDB(b, data)+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	b.Cleanup(func() { db.Close() })
	return serveBare(b, bareHandler(func(ctx context.Context, after int64, emit func(int64, []byte) bool) error {
		rows, err := db.QueryContext(ctx, bareSelect, after)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var seq int64
			var data sql.RawBytes
			if err := rows.Scan(&seq, &data); err != nil {
				return err
			}
			if !emit(seq, data) {
				break
			}
		}
		return rows.Err()
	}))
}

// barePostgres serves the bare table from PostgreSQL (a schema of its
// own on the same server) through pgx's native pool, the statement
// prepared and cached per connection, rows read as raw binary values.
func barePostgres(b *testing.B, data [][]byte) *httptest.Server {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testenv.PostgresSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `CREATE TABLE ev (seq bigint PRIMARY KEY, data bytea NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	rows := make([][]any, len(data))
	for i, d := range data {
		rows[i] = []any{int64(i + 1), d}
	}
	if _, err := pool.CopyFrom(ctx, []string{"ev"}, []string{"seq", "data"}, pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE ev`); err != nil {
		b.Fatal(err)
	}
	const q = `SELECT seq, data FROM ev WHERE seq > $1 ORDER BY seq LIMIT 1001`
	return serveBare(b, bareHandler(func(ctx context.Context, after int64, emit func(int64, []byte) bool) error {
		rows, err := pool.Query(ctx, q, after)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			raw := rows.RawValues()
			if len(raw) != 2 || len(raw[0]) != 8 {
				return fmt.Errorf("bare: unexpected row shape")
			}
			if !emit(int64(binary.BigEndian.Uint64(raw[0])), raw[1]) {
				break
			}
		}
		return rows.Err()
	}))
}

// BenchmarkServeExternal loads a server running elsewhere, such as
// `logbook serve` in a process of its own whose memory is to be measured
// (docs/benchmarks.md): LOGBOOK_BENCH_URL is its Events API endpoint (say
// http://127.0.0.1:8080/api/v2/signinattempts) and LOGBOOK_BENCH_TOKEN a
// bearer token for it. Four clients page through the whole stream
// (wrapping around) for b.N requests, then poll its head for b.N more.
// Skipped when LOGBOOK_BENCH_URL is unset.
func BenchmarkServeExternal(b *testing.B) {
	url := os.Getenv("LOGBOOK_BENCH_URL")
	if url == "" {
		b.Skip("LOGBOOK_BENCH_URL is unset: no external server to load")
	}
	t := target{name: "external", url: url, token: os.Getenv("LOGBOOK_BENCH_TOKEN"), body: func(cursor string) string {
		if cursor == "" {
			return `{"limit":1000,"start_time":"2000-01-01T00:00:00Z"}`
		}
		return `{"cursor":"` + cursor + `"}`
	}}
	t.head = headCursor(b, t)
	var pages, polls tally
	b.ResetTimer()
	load(b, t, b.N, false, &pages)
	load(b, t, b.N, true, &polls)
	b.ReportMetric(float64(pages.items)/pages.elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(polls.requests)/polls.elapsed.Seconds(), "polls/s")
}
