package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/store/storetest"
	"github.com/logbookhq/logbook/internal/testenv"
)

// BenchmarkAppend: 1,000-event batches, de-duplication on, synchronous_commit
// on, over a fresh schema.
func BenchmarkAppend(b *testing.B) {
	storetest.BenchAppend(b, func(b *testing.B) store.Store { return open(b, testenv.PostgresSchema(b), postgres.Options{}) })
}

// BenchmarkAppendParallel: BenchmarkAppend's new events from 2 writers
// at once on one stream.
func BenchmarkAppendParallel(b *testing.B) {
	storetest.BenchAppendParallel(b, func(b *testing.B) store.Store { return open(b, testenv.PostgresSchema(b), postgres.Options{}) }, 2)
}

// BenchmarkList: 1,000-row pages from a stream of 100,000 events.
func BenchmarkList(b *testing.B) {
	storetest.BenchList(b, func(b *testing.B) store.Store { return open(b, testenv.PostgresSchema(b), postgres.Options{}) })
}

// BenchmarkPagesHinted: 1,000-row pages through a stream of 50,000 events
// (one a second, across a midnight), each page unhinted (two round trips)
// or hinted with the time of the last row before it, as the API's cursor
// hints (one round trip when the page lies in that day). The two alternate
// in one run; compare them pair by pair (docs/benchmarks.md).
func BenchmarkPagesHinted(b *testing.B) {
	url := testenv.PostgresSchema(b)
	db := open(b, url, postgres.Options{})
	start := time.Now().Add(-48 * time.Hour).Truncate(24 * time.Hour).Add(20 * time.Hour)
	for k := range 50 {
		recs := make([]store.Record, 0, 1000)
		for i := range 1000 {
			n := k*1000 + i
			recs = append(recs, store.Record{UUID: fmt.Sprintf("u%d", n), Time: start.Add(time.Duration(n) * time.Second), Label: "x",
				V2: fmt.Appendf(nil, `{"uuid":"u%d","payload":"about two hundred bytes, a typical sign-in attempt's size: %0120d"}`, n, n)})
		}
		if _, err := db.AppendEvents(b.Context(), "acct", events.SignInAttempts, recs); err != nil {
			b.Fatal(err)
		}
	}
	// Statistics for the day partitions just filled (see BenchmarkServe).
	execRaw(b, url, `VACUUM ANALYZE events, event_hours, event_appends, streams`)
	run := func(b *testing.B, hinted bool) {
		var (
			last time.Time
			rows int
		)
		q := store.ListQuery{Account: "acct", Feature: events.SignInAttempts, Limit: 1000,
			Each: func(r store.Row) { last, rows = r.Time, rows+1 }}
		for b.Loop() {
			if hinted {
				q.Hint = last
			}
			res, err := db.ListEvents(b.Context(), q)
			if err != nil {
				b.Fatal(err)
			}
			q.After = res.Last
			if !res.More {
				q.After, last = 0, time.Time{}
			}
		}
		if rows < b.N*900 {
			b.Fatalf("%d rows in %d pages", rows, b.N)
		}
	}
	b.Run("unhinted", func(b *testing.B) { run(b, false) })
	b.Run("hinted", func(b *testing.B) { run(b, true) })
}
