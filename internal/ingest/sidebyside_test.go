package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/benchrate"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/servertest"
	"github.com/logbookhq/logbook/internal/testenv"
)

// Side-by-side shape: 2 clients, each posting sideBatches batches of 1,000
// item-usage events per round and target.
const (
	sideClients = 2
	sideBatches = 10
	sideSize    = 1000
)

// BenchmarkIngestSideBySide measures, in one run and alternating the
// order each round, three ways to store the same 1,000-event item-usage
// batches from 2 concurrent clients, each sending its next batch when the
// last is answered:
//
//   - sqlite: Logbook over HTTP on SQLite (de-duplication on);
//   - pg: Logbook over HTTP on PostgreSQL, a fresh schema (de-duplication
//     and synchronous_commit on);
//   - bare: the baseline, pgx CopyFrom of the same rows, decoded before the
//     clock starts, into a plain table with the same two indexes as
//     Logbook's events (unique on stream, ts, uuid; stream, seq), on the
//     same PostgreSQL server, one transaction per batch.
//
// b.N is the number of rounds; each round sends every target 20 batches
// (20,000 events) never seen before. It reports events/s for each target
// over all rounds, the ratios pg/sqlite and pg/bare, and events per CPU
// second of this process and the PostgreSQL server together (see
// postgresCPU); -v logs each round. PostgreSQL is testenv's (skipped when absent, failing under CI).
//
//	go test ./internal/ingest -run '^$' -bench IngestSideBySide -benchtime 5x -v
func BenchmarkIngestSideBySide(b *testing.B) {
	pgServer := testenv.PostgresSchema(b)
	bareURL := testenv.PostgresSchema(b)
	lite := servertest.Start(b, servertest.Options{})
	pg := servertest.Start(b, servertest.Options{DB: pgServer})
	bare := openBare(b, bareURL)

	var tpl template
	for _, t := range templates(b) {
		if t.kind == events.ItemUsages {
			tpl = t
		}
	}
	// One set of bodies per round, sent to every target: they do not share
	// a database, so each sees only new events.
	rounds := make([][][]byte, b.N)
	for r := range rounds {
		for range sideClients * sideBatches {
			var buf bytes.Buffer
			tpl.batch(&buf)
			rounds[r] = append(rounds[r], bytes.Clone(buf.Bytes()))
		}
	}
	rows := make([][][][]any, b.N)
	for r, bodies := range rounds {
		for _, body := range bodies {
			rows[r] = append(rows[r], bareRows(b, body))
		}
	}

	type target struct {
		name string
		send func(round, i int) error
		took time.Duration
		cpu  time.Duration // this process's and the PostgreSQL server's
	}
	targets := []*target{
		{name: "sqlite", send: httpSender(lite, newKey(b, lite), rounds)},
		{name: "pg", send: httpSender(pg, newKey(b, pg), rounds)},
		{name: "bare", send: bare.sender(rows)},
	}
	b.ResetTimer()
	for r := range b.N {
		for k := range targets {
			t := targets[(r+k)%len(targets)]
			cpu0, pg0 := benchrate.CPU(), postgresTicks()
			start := time.Now()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range sideClients {
				wg.Go(func() {
					for {
						i := int(next.Add(1) - 1)
						if i >= sideClients*sideBatches {
							return
						}
						if err := t.send(r, i); err != nil {
							b.Errorf("%s: %v", t.name, err)
							return
						}
					}
				})
			}
			wg.Wait()
			took := time.Since(start)
			t.took += took
			t.cpu += benchrate.CPU() - cpu0 + postgresCPU(pg0)
			b.Logf("round %d %s: %.0f events/s", r, t.name, float64(sideClients*sideBatches*sideSize)/took.Seconds())
		}
	}
	b.StopTimer()
	rate := map[string]float64{}
	for _, t := range targets {
		rate[t.name] = float64(b.N*sideClients*sideBatches*sideSize) / t.took.Seconds()
		b.ReportMetric(rate[t.name], t.name+"-events/s")
		if t.cpu > 0 {
			b.ReportMetric(float64(b.N*sideClients*sideBatches*sideSize)/t.cpu.Seconds(), t.name+"-events/cpu-s")
		}
	}
	b.ReportMetric(rate["pg"]/rate["sqlite"], "pg/sqlite")
	b.ReportMetric(rate["pg"]/rate["bare"], "pg/bare")
	b.ReportMetric(0, "ns/op")
	if n := countEvents(b, pgServer); n != int64(b.N*sideClients*sideBatches*sideSize) {
		b.Fatalf("pg holds %d events, want %d", n, b.N*sideClients*sideBatches*sideSize)
	}
}

// postgresTicks reads the CPU time (user and system, in clock ticks) of
// every process named postgres on this machine from /proc, by pid; nil
// where there is no /proc.
func postgresTicks() map[string]int64 {
	dirs, _ := os.ReadDir("/proc")
	out := map[string]int64{}
	for _, d := range dirs {
		if d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid … utime stime: utime and stime are the
		// 12th and 13th fields after the command's closing parenthesis.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 || !bytes.HasSuffix(stat[:i], []byte("(postgres")) {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		out[d.Name()] = u + s
	}
	return out
}

// postgresCPU is the CPU time PostgreSQL's processes used since before
// was read (postgresTicks): that of processes that have ended meanwhile
// is lost. The PostgreSQL of the tests runs on this machine, and its CPU
// is most of what an append costs, so the benchmark adds it to its own
// (benchrate.CPU) for the events per CPU second of each target: a steadier
// rate than wall time on a machine shared with other work, though that
// work's queries count too.
func postgresCPU(before map[string]int64) time.Duration {
	var ticks int64
	for pid, t := range postgresTicks() {
		ticks += t - before[pid]
	}
	return time.Duration(ticks) * (time.Second / clockTicks)
}

// clockTicks is Linux's USER_HZ, the unit of /proc's CPU times.
const clockTicks = 100

// httpSender posts bodies[round][i] to srv's item-usage endpoint.
func httpSender(srv *servertest.Server, key string, bodies [][][]byte) func(round, i int) error {
	return func(round, i int) error {
		body, err := postBatch(srv, key, events.ItemUsages, bodies[round][i])
		if err != nil {
			return err
		}
		var res ingest.Result
		if err := json.Unmarshal(body, &res); err != nil {
			return fmt.Errorf("reply %s: %w", body, err)
		}
		if res.Accepted != sideSize {
			return fmt.Errorf("accepted %d of %d new events: %s", res.Accepted, sideSize, body)
		}
		return nil
	}
}

// countEvents counts the events a Logbook schema holds.
func countEvents(b *testing.B, url string) int64 {
	b.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

// bareTable is the baseline's store: a table shaped like Logbook's events.
type bareTable struct {
	pool *pgxpool.Pool
	seq  atomic.Int64
}

func openBare(b *testing.B, url string) *bareTable {
	b.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	_, err = pool.Exec(ctx, `CREATE TABLE bare (stream bigint NOT NULL, seq bigint NOT NULL, ts bigint NOT NULL,
		uuid text NOT NULL, label text NOT NULL, v2 bytea NOT NULL);
	CREATE UNIQUE INDEX bare_stream_ts_uuid ON bare (stream, ts, uuid);
	CREATE INDEX bare_stream_seq ON bare (stream, seq)`)
	if err != nil {
		b.Fatal(err)
	}
	return &bareTable{pool: pool}
}

var bareColumns = []string{"stream", "seq", "ts", "uuid", "label", "v2"}

// bareRows decodes an NDJSON body into the baseline's rows (seq left 0).
func bareRows(b *testing.B, body []byte) [][]any {
	var out [][]any
	for line := range bytes.SplitSeq(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
		var h struct {
			UUID      string
			Timestamp time.Time
		}
		if err := json.Unmarshal(line, &h); err != nil {
			b.Fatal(err)
		}
		out = append(out, []any{int64(1), int64(0), h.Timestamp.UnixNano(), h.UUID, "item", line})
	}
	return out
}

// sender copies rows[round][i] in one transaction, numbering them after
// the positions taken so far.
func (t *bareTable) sender(rows [][][][]any) func(round, i int) error {
	return func(round, i int) error {
		batch := rows[round][i]
		first := t.seq.Add(int64(len(batch))) - int64(len(batch))
		for k, r := range batch {
			r[1] = first + int64(k) + 1
		}
		ctx := context.Background()
		return pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
			n, err := tx.CopyFrom(ctx, pgx.Identifier{"bare"}, bareColumns, pgx.CopyFromRows(batch))
			if err == nil && n != int64(len(batch)) {
				err = fmt.Errorf("copied %d of %d rows", n, len(batch))
			}
			return err
		})
	}
}
