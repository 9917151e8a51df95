package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/testenv"
)

// TestPageFromDroppedPartition: a page whose times all fall in one day is
// read from that day's partition directly; when the partition is gone
// (retention dropped it after the page's bounds were read, which the
// stale summary below stands for), the partitioned parent answers.
func TestPageFromDroppedPartition(t *testing.T) {
	url := testenv.PostgresSchema(t)
	db := open(t, url, postgres.Options{})
	day1 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	var recs []store.Record
	for i, ts := range []time.Time{day1, day1.Add(time.Minute), day2, day2.Add(time.Minute)} {
		recs = append(recs, store.Record{UUID: fmt.Sprintf("u%d", i), Time: ts, Label: "x", V2: fmt.Appendf(nil, `{"i":%d}`, i)})
	}
	if _, err := db.AppendEvents(t.Context(), "acct", events.SignInAttempts, recs); err != nil {
		t.Fatal(err)
	}
	q := store.ListQuery{Account: "acct", Feature: events.SignInAttempts, Limit: 10, Start: day2.Add(-time.Hour)}
	res, err := db.ListEvents(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 || res.Rows[0].Seq != 3 {
		t.Fatalf("from day 2's partition: %d rows from %v, want 2 from position 3", len(res.Rows), res.Rows)
	}
	// Drop day 2's partition behind the store's back: its hours stay in
	// event_hours, so the page's bounds still point at it.
	execRaw(t, url, `DROP TABLE events_d`+day2.Format("20060102"))
	res, err = db.ListEvents(t.Context(), q)
	if err != nil {
		t.Fatalf("ListEvents with the partition gone: %v", err)
	}
	if len(res.Rows) != 0 || res.Last != 4 || res.More {
		t.Errorf("with the partition gone: %d rows, Last %d, More %v; want none, 4, false", len(res.Rows), res.Last, res.More)
	}
}

// page is what ListEvents answers, in a form cmp can compare.
type page struct {
	Seqs       []int64
	Last       int64
	More       bool
	FirstBytes string
}

// listAll pages through q, each page's hint chosen by hint from the time
// of the last row of the page before (zero before the first).
func listAll(t *testing.T, db *postgres.DB, q store.ListQuery, hint func(last time.Time) time.Time) []page {
	t.Helper()
	var pages []page
	var last time.Time
	for range 20 {
		q.Hint = hint(last)
		res, err := db.ListEvents(t.Context(), q)
		if err != nil {
			t.Fatalf("ListEvents(after %d, hint %v): %v", q.After, q.Hint, err)
		}
		p := page{Last: res.Last, More: res.More}
		for _, r := range res.Rows {
			p.Seqs = append(p.Seqs, r.Seq)
			last = r.Time
		}
		if len(res.Rows) > 0 {
			p.FirstBytes = string(res.Rows[0].Data)
		}
		pages = append(pages, p)
		if !res.More {
			return pages
		}
		q.After = res.Last
	}
	t.Fatal("more than 20 pages")
	return nil
}

// TestHintedPages: a hinted page (store.ListQuery.Hint) reads its rows in
// the round trip of its bounds when the hint names its day, and is the same
// page as an unhinted one whatever the hint: the right day, a wrong one, a
// day with no partition, across midnight, with rows beyond an
// insertion-time end that the speculative read sees and must drop, and with
// the hinted day's partition dropped.
func TestHintedPages(t *testing.T) {
	url := testenv.PostgresSchema(t)
	clock := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
	db := open(t, url, postgres.Options{Now: func() time.Time { return clock }})
	day1 := time.Date(2026, 3, 10, 22, 0, 0, 0, time.UTC)
	var recs []store.Record
	for i := range 12 { // 22:00 to 03:20 the next day, every 30 minutes
		ts := day1.Add(time.Duration(i) * 30 * time.Minute)
		recs = append(recs, store.Record{UUID: fmt.Sprintf("u%d", i), Time: ts, Label: "x", V2: fmt.Appendf(nil, `{"i":%d}`, i)})
	}
	if _, err := db.AppendEvents(t.Context(), "acct", events.SignInAttempts, recs[:8]); err != nil {
		t.Fatal(err)
	}
	cut := clock.Add(time.Second)
	clock = clock.Add(time.Minute)
	if _, err := db.AppendEvents(t.Context(), "acct", events.SignInAttempts, recs[8:]); err != nil {
		t.Fatal(err)
	}
	none := func(time.Time) time.Time { return time.Time{} }
	hints := map[string]func(time.Time) time.Time{
		"last row":   func(last time.Time) time.Time { return last },
		"first day":  func(time.Time) time.Time { return day1 },
		"second day": func(time.Time) time.Time { return day1.Add(24 * time.Hour) },
		"no such day": func(time.Time) time.Time {
			return day1.Add(-400 * 24 * time.Hour)
		},
	}
	for _, q := range []store.ListQuery{
		{Account: "acct", Feature: events.SignInAttempts, Limit: 3},
		{Account: "acct", Feature: events.SignInAttempts, Limit: 1, Start: day1.Add(time.Hour)},
		{Account: "acct", Feature: events.SignInAttempts, Limit: 2, InsertedBefore: cut},
		{Account: "acct", Feature: events.SignInAttempts, Limit: 1, After: 5, InsertedBefore: cut},
	} {
		want := listAll(t, db, q, none)
		for name, hint := range hints {
			if diff := cmp.Diff(want, listAll(t, db, q, hint)); diff != "" {
				t.Errorf("limit %d, after %d, start %v, inserted before %v, hint %s (-unhinted +hinted):\n%s",
					q.Limit, q.After, q.Start, q.InsertedBefore, name, diff)
			}
		}
	}
	// Positions 5 on are all in the second day: with its partition
	// dropped (by hand, so event_hours still point at it), the hinted
	// page is the unhinted one, and neither has rows.
	execRaw(t, url, `DROP TABLE events_d`+day1.Add(24*time.Hour).Format("20060102"))
	q := store.ListQuery{Account: "acct", Feature: events.SignInAttempts, Limit: 2, After: 4}
	want := listAll(t, db, q, none)
	if len(want) != 1 || len(want[0].Seqs) != 0 {
		t.Fatalf("unhinted pages with the partition gone: %+v, want one without rows", want)
	}
	for name, hint := range hints {
		if diff := cmp.Diff(want, listAll(t, db, q, hint)); diff != "" {
			t.Errorf("partition gone, hint %s (-unhinted +hinted):\n%s", name, diff)
		}
	}
}
