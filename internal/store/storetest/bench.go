package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/benchrate"
	"github.com/logbookhq/logbook/internal/store"
)

// Benchmarks shared by the backends, so their numbers compare: run them
// from each backend's bench_test.go.

// eventJSON is a realistic item usage in its v2 rendering (about 700 bytes).
const eventJSON = `{"uuid":%q,"timestamp":%q,"used_version":3,"vault_uuid":"jaaoq3iyxo5rapnglm5pqfqnl4","item_uuid":"qmf2byvrnvgbtmktnjvpy4c6fy","action":"fill","account_uuid":"GRXJAN4BY5DPROISKYL55IRCPY","user":{"uuid":"4HCGRGYCTRQFBMGVEGTABYDU2V","name":"Wendy Appleseed","email":"wendy.appleseed@acme.example"},"client":{"app_name":"1Password Browser Extension","app_version":"81053012","platform_name":"Chrome","platform_version":"134.0.6998.89","os_name":"MacOSX","os_version":"15.3.2","ip_address":"203.0.113.42"},"location":{"country":"CA","region":"Ontario","city":"Toronto","latitude":43.6532,"longitude":-79.3832}}`

// Records makes n records with random event IDs (as the API's: 26
// characters of base32, so index inserts land all over the index), one
// second apart.
func Records(n int, t0 time.Time) []store.Record {
	rs := make([]store.Record, n)
	for i := range rs {
		id := events.NewID()
		ts := t0.Add(time.Duration(i) * time.Second)
		rs[i] = store.Record{UUID: id, Time: ts, Label: "fill",
			V2: fmt.Appendf(nil, eventJSON, id, ts.Format(time.RFC3339Nano))}
	}
	return rs
}

// BenchAppend appends 1,000-event batches to one stream with
// de-duplication on (every uuid checked against the stream's unique index),
// committed durably. open returns a new, empty store.
func BenchAppend(b *testing.B, open func(b *testing.B) store.Store) {
	for _, dupEvery := range []int{0, 10} {
		name := "new"
		if dupEvery > 0 {
			name = fmt.Sprintf("1in%dduplicate", dupEvery)
		}
		b.Run(name, func(b *testing.B) {
			db := open(b)
			ctx := b.Context()
			t0 := time.Now().Add(-24 * time.Hour)
			var prev []store.Record
			i, n := 0, 0
			meter := benchrate.Start()
			for b.Loop() {
				var rs []store.Record
				meter.Exclude(b, func() {
					rs = Records(1000, t0.Add(time.Duration(i)*time.Minute))
					if dupEvery > 0 && prev != nil {
						for j := 0; j < len(rs); j += dupEvery {
							rs[j] = prev[j]
						}
					}
				})
				got, err := db.AppendEvents(ctx, "acct", events.ItemUsages, rs)
				if err != nil {
					b.Fatal(err)
				}
				n += got
				prev = rs
				i++
			}
			meter.Report(b, n)
		})
	}
}

// BenchList reads 1,000-row pages from a stream of 100,000 events.
func BenchList(b *testing.B, open func(b *testing.B) store.Store) {
	db := open(b)
	ctx := b.Context()
	t0 := time.Now().Add(-48 * time.Hour)
	const total = 100_000
	for i := range total / 1000 {
		if _, err := db.AppendEvents(ctx, "acct", events.ItemUsages, Records(1000, t0.Add(time.Duration(i)*1000*time.Second))); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("at-head", func(b *testing.B) {
		// A connector polling a drained stream: empty pages.
		b.ReportAllocs()
		head, err := db.HeadPosition(ctx, "acct", events.ItemUsages)
		if err != nil {
			b.Fatal(err)
		}
		q := store.ListQuery{Account: "acct", Feature: events.ItemUsages, Limit: 1000, After: head}
		for b.Loop() {
			res, err := db.ListEvents(ctx, q)
			if err != nil || len(res.Rows) != 0 || res.More {
				b.Fatalf("at head: %d rows, More %v, err %v", len(res.Rows), res.More, err)
			}
		}
	})
	for _, tt := range []struct {
		name  string
		start time.Time
		v1    bool
	}{
		{"v2", time.Time{}, false},
		{"v1", time.Time{}, true},
		{"v2-start-filter", t0, false},
	} {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			q := store.ListQuery{Account: "acct", Feature: events.ItemUsages, Limit: 1000, Start: tt.start, V1: tt.v1}
			n := 0
			meter := benchrate.Start()
			for b.Loop() {
				res, err := db.ListEvents(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Rows) != 1000 {
					b.Fatalf("page of %d rows, want 1000", len(res.Rows))
				}
				n += len(res.Rows)
				q.After = res.Last
				if !res.More {
					q.After = 0
				}
			}
			meter.Report(b, n)
		})
	}
}

// BenchAppendParallel appends 1,000-event batches of new events to one
// stream from writers goroutines at once, as several clients of one
// server do. b.N is the number of batches per writer.
func BenchAppendParallel(b *testing.B, open func(b *testing.B) store.Store, writers int) {
	db := open(b)
	ctx := b.Context()
	t0 := time.Now().Add(-24 * time.Hour)
	batches := make([][][]store.Record, writers)
	for w := range batches {
		for i := range b.N {
			batches[w] = append(batches[w], Records(1000, t0.Add(time.Duration(i*writers+w)*time.Minute)))
		}
	}
	meter := benchrate.Start()
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for _, rs := range batches[w] {
				if n, err := db.AppendEvents(ctx, "acct", events.ItemUsages, rs); err != nil || n != len(rs) {
					b.Errorf("append: %d of %d, %v", n, len(rs), err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	meter.Report(b, b.N*writers*1000)
}
