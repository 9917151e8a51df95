package postgres_test

import (
	"fmt"
	"testing"
	"time"

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
