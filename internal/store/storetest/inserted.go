package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// The insertion time (issue 16): one per append, growing strictly from one
// append to the next, and the exclusive bounds of ListQuery on it.

// appendTimed appends rs and returns the insertion time its rows carry,
// checking that they share it, that it lies between the wall clock before
// and after the call (to the tolerance of a clock read elsewhere) and
// that it is later than prev.
func appendTimed(t *testing.T, s store.Store, account string, f events.Feature, rs []store.Record, prev time.Time) time.Time {
	t.Helper()
	head, err := s.HeadPosition(t.Context(), account, f)
	must(t, "HeadPosition", err)
	before := time.Now()
	mustAppend(t, s, account, f, rs)
	after := time.Now()
	rows := Drain(t, s, store.ListQuery{WithInserted: true, Account: account, Feature: f, After: head, Limit: 1000})
	if len(rows) == 0 {
		t.Fatalf("append of %d records: no new rows", len(rs))
	}
	at := rows[0].Inserted
	for _, r := range rows {
		if !r.Inserted.Equal(at) || r.Inserted.Location() != time.UTC {
			t.Fatalf("row %d: Inserted %v, want %v (UTC) as the other rows of its append", r.Seq, r.Inserted, at)
		}
	}
	const slack = time.Second // a server's clock read by the database, say
	if at.Before(before.Add(-slack)) || at.After(after.Add(slack)) {
		t.Errorf("Inserted = %v, want between %v and %v", at, before, after)
	}
	if !at.After(prev) {
		t.Errorf("Inserted = %v, not after the previous append's %v", at, prev)
	}
	return at
}

func testInsertionTime(t *testing.T, s store.Store) {
	acct := newID()
	f := events.AuditEvents
	var ats []time.Time
	var prev time.Time
	// Appends in quick succession, timestamps out of order: each append
	// its own time, strictly later than the one before.
	for i, ts := range []time.Time{base, base.Add(-24 * time.Hour), base.Add(time.Hour), base.Add(-time.Minute)} {
		prev = appendTimed(t, s, acct, f, recs(fmt.Sprintf("i%d", i), 3, ts, time.Second), prev)
		ats = append(ats, prev)
	}
	// A call that stores nothing new records no time: the next append's
	// is still later than the last stored one.
	mustAppend(t, s, acct, f, recs("i0", 3, base, time.Second))
	ats = append(ats, appendTimed(t, s, acct, f, []store.Record{rec("i4", base, "x")}, prev))
	// Another stream has times of its own, and the same ordering.
	appendTimed(t, s, newID(), f, recs("o", 2, base, time.Second), time.Time{})
	// Not asked for, it is not read.
	for _, r := range Drain(t, s, store.ListQuery{Account: acct, Feature: f, Limit: 5}) {
		if !r.Inserted.IsZero() {
			t.Fatalf("row %d: Inserted %v without WithInserted", r.Seq, r.Inserted)
		}
	}
	// Read again, every row carries its append's time, in any page size.
	for _, limit := range []int{1, 2, 1000} {
		rows := Drain(t, s, store.ListQuery{WithInserted: true, Account: acct, Feature: f, Limit: limit})
		if len(rows) != 13 {
			t.Fatalf("limit %d: %d rows, want 13", limit, len(rows))
		}
		for i, r := range rows {
			if want := ats[min(i/3, 4)]; !r.Inserted.Equal(want) {
				t.Errorf("limit %d: row %d Inserted %v, want %v", limit, i, r.Inserted, want)
			}
		}
	}
}

func testInsertedFilter(t *testing.T, s store.Store) {
	acct := newID()
	f := events.ItemUsages
	var batches [][]store.Record
	var ats []time.Time
	var prev time.Time
	// Batch i has 4 events, timestamps older the later the batch.
	for i := range 4 {
		rs := recs(fmt.Sprintf("b%d", i), 4, base.Add(-time.Duration(i)*time.Hour), time.Minute)
		prev = appendTimed(t, s, acct, f, rs, prev)
		batches = append(batches, rs)
		ats = append(ats, prev)
	}
	between := func(lo, hi int) []store.Record { // batches lo..hi-1
		var out []store.Record
		for _, b := range batches[lo:hi] {
			out = append(out, b...)
		}
		return out
	}
	for _, tt := range []struct {
		name          string
		after, before time.Time
		want          []store.Record
	}{
		{"no bound", time.Time{}, time.Time{}, between(0, 4)},
		{"after is exclusive", ats[1], time.Time{}, between(2, 4)},
		{"after a nanosecond earlier", ats[1].Add(-time.Nanosecond), time.Time{}, between(1, 4)},
		{"before is exclusive", time.Time{}, ats[2], between(0, 2)},
		{"before a nanosecond later", time.Time{}, ats[2].Add(time.Nanosecond), between(0, 3)},
		{"both", ats[0], ats[3], between(1, 3)},
		{"one append", ats[0], ats[2], between(1, 2)},
		{"empty between", ats[1], ats[1].Add(time.Nanosecond), nil},
		{"after the last", ats[3], time.Time{}, nil},
		{"before the first", time.Time{}, ats[0], nil},
		{"long before", base.Add(-48 * time.Hour), time.Time{}, between(0, 4)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, limit := range []int{1, 3, 1000} {
				q := store.ListQuery{WithInserted: true, Account: acct, Feature: f, InsertedAfter: tt.after, InsertedBefore: tt.before, Limit: limit}
				diff(t, fmt.Sprintf("limit %d", limit), rowsOf(Drain(t, s, q)), wantOf(tt.want))
			}
		})
	}
	// With the event time filter too: both apply.
	q := store.ListQuery{WithInserted: true, Account: acct, Feature: f, InsertedAfter: ats[0], Start: base.Add(-2 * time.Hour), Limit: 2}
	diff(t, "with Start", rowsOf(Drain(t, s, q)), wantOf(between(1, 3)))

	// A bound in the future: nothing yet, and an append made before that
	// time is not after it, however high its position.
	future := time.Now().Add(time.Hour)
	q = store.ListQuery{WithInserted: true, Account: acct, Feature: f, InsertedAfter: future, Limit: 10}
	res := mustList(t, s, q)
	if len(res.Rows) != 0 || res.More {
		t.Errorf("after a future time: %d rows, More %v", len(res.Rows), res.More)
	}
	appendTimed(t, s, acct, f, []store.Record{rec("now", base, "x")}, prev)
	q.After = res.Last
	if rows := Drain(t, s, q); len(rows) != 0 {
		t.Errorf("after a future time, an append made now: %v", rowsOf(rows))
	}
	q = store.ListQuery{WithInserted: true, Account: acct, Feature: f, InsertedAfter: ats[3], InsertedBefore: future, Limit: 10}
	diff(t, "up to a future time", rowsOf(Drain(t, s, q)), wantOf([]store.Record{rec("now", base, "x")}))
}

// testInsertedLateArrival is the v3 polling method (1Password's beta
// reference): read everything inserted after a start, then ask for what
// was inserted after the last insertion time seen. An event with an old
// timestamp appended in between is seen exactly once; a filter on the
// event time would have missed it.
func testInsertedLateArrival(t *testing.T, s store.Store) {
	acct := newID()
	f := events.AuditEvents
	poll := func(after time.Time) []store.Row {
		return Drain(t, s, store.ListQuery{WithInserted: true, Account: acct, Feature: f, InsertedAfter: after, Limit: 2})
	}
	start := time.Now().Add(-time.Minute)
	first := recs("first", 5, base, time.Minute)
	mustAppend(t, s, acct, f, first)
	rows := poll(start)
	diff(t, "first poll", rowsOf(rows), wantOf(first))
	last := rows[len(rows)-1].Inserted

	late := rec("late", base.Add(-time.Hour), "x") // older than all seen
	next := rec("next", base.Add(time.Hour), "x")
	mustAppend(t, s, acct, f, []store.Record{late})
	mustAppend(t, s, acct, f, []store.Record{next})
	rows = poll(last)
	diff(t, "second poll", rowsOf(rows), wantOf([]store.Record{late, next}))
	if rows := poll(rows[len(rows)-1].Inserted); len(rows) != 0 {
		t.Errorf("third poll: %v, want nothing new", rowsOf(rows))
	}
}

// testInsertedRetention: retention keeps the insertion times of the
// events it leaves, and appends after it are still later.
func testInsertedRetention(t *testing.T, s store.Store) {
	acct := newID()
	f := events.SignInAttempts
	old := recs("old", 3, base.Add(-72*time.Hour), time.Minute)
	mixed := append(recs("gone", 2, base.Add(-48*time.Hour), time.Minute), recs("kept", 2, base, time.Minute)...)
	a0 := appendTimed(t, s, acct, f, old, time.Time{})
	a1 := appendTimed(t, s, acct, f, mixed, a0)
	_, err := s.DeleteEventsBefore(t.Context(), base.Add(-time.Hour))
	must(t, "DeleteEventsBefore", err)
	rows := Drain(t, s, store.ListQuery{WithInserted: true, Account: acct, Feature: f, Limit: 10})
	diff(t, "kept", rowsOf(rows), wantOf(mixed[2:]))
	for _, r := range rows {
		if !r.Inserted.Equal(a1) {
			t.Errorf("kept row %d: Inserted %v, want %v", r.Seq, r.Inserted, a1)
		}
	}
	diff(t, "inserted after the first append", rowsOf(Drain(t, s, store.ListQuery{WithInserted: true, Account: acct, Feature: f, InsertedAfter: a0, Limit: 1})), wantOf(mixed[2:]))
	_, err = s.DeleteEventsBefore(t.Context(), base.Add(time.Hour))
	must(t, "DeleteEventsBefore all", err)
	appendTimed(t, s, acct, f, []store.Record{rec("new", base, "x")}, a1)
	diff(t, "inserted after the second append", rowsOf(Drain(t, s, store.ListQuery{WithInserted: true, Account: acct, Feature: f, InsertedAfter: a1, Limit: 1})),
		wantOf([]store.Record{rec("new", base, "x")}))
}

// MigrationInsertionTime checks migration 0006 on events stored before it:
// it appends events with the store, then calls redo, which must undo 0006
// (drop event_appends and the latest insertion time column, forget the
// migration) and migrate again, as on a store written before 0006. Each
// old event then has the end of the hour of the latest timestamp stored
// at or before its position, never later than the migration, and an
// append afterwards is later than all of them.
func MigrationInsertionTime(t *testing.T, s store.Store, redo func(t *testing.T)) {
	ctx := t.Context()
	acct := newID()
	f := events.AuditEvents
	future := time.Now().Add(48 * time.Hour)
	for i, ts := range []time.Time{
		base, base.Add(3 * time.Hour), base.Add(time.Hour), // a late batch
		base.Add(3*time.Hour + time.Minute), future, base.Add(2 * time.Hour),
	} {
		mustAppend(t, s, acct, f, recs(fmt.Sprintf("m%d", i), 3, ts, time.Minute))
	}
	mustAppend(t, s, newID(), f, recs("other", 2, base.Add(-time.Hour), time.Hour))
	before := time.Now()
	redo(t)
	after := time.Now()

	rows := Drain(t, s, store.ListQuery{WithInserted: true, Account: acct, Feature: f, Limit: 4})
	var latest, prev time.Time
	var migration time.Time // the clamp, read from the rows
	for _, r := range rows {
		if r.Time.After(latest) {
			latest = r.Time
		}
		want := latest.Truncate(time.Hour).Add(time.Hour - time.Nanosecond)
		if want.After(before.Add(-time.Second)) {
			// Clamped to the migration's clock (to its precision).
			if migration.IsZero() {
				migration = r.Inserted
			}
			if !r.Inserted.Equal(migration) || r.Inserted.Before(before.Add(-time.Second)) || r.Inserted.After(after) {
				t.Errorf("row %d (%v): Inserted %v, want the migration's time, in [%v, %v]", r.Seq, r.Time, r.Inserted, before, after)
			}
		} else if !r.Inserted.Equal(want) {
			t.Errorf("row %d (%v): Inserted %v, want %v", r.Seq, r.Time, r.Inserted, want)
		}
		if r.Inserted.Before(prev) {
			t.Errorf("row %d: Inserted %v before the previous row's %v", r.Seq, r.Inserted, prev)
		}
		prev = r.Inserted
	}
	if len(rows) != 18 || migration.IsZero() {
		t.Fatalf("%d rows, migration time %v; want 18 rows, some clamped", len(rows), migration)
	}
	// The late batch is dated by the newer one before it.
	if want := base.Truncate(time.Hour).Add(4*time.Hour - time.Nanosecond); !rows[6].Inserted.Equal(want) {
		t.Errorf("late batch: Inserted %v, want %v", rows[6].Inserted, want)
	}
	// Bounds on the migrated times are ranges of positions as for new ones.
	q := store.ListQuery{WithInserted: true, Account: acct, Feature: f, InsertedAfter: rows[2].Inserted, InsertedBefore: migration, Limit: 1}
	diff(t, "between the first hour and the migration", rowsOf(Drain(t, s, q)), rowsOf(rows[3:12]))
	// Appends go on after every migrated time, in every stream.
	at := appendTimed(t, s, acct, f, []store.Record{rec("new", base, "x")}, migration)
	q = store.ListQuery{WithInserted: true, Account: acct, Feature: f, InsertedAfter: migration, Limit: 10}
	diff(t, "after the migration", rowsOf(Drain(t, s, q)), wantOf([]store.Record{rec("new", base, "x")}))
	if _, err := s.HeadPosition(ctx, acct, f); err != nil || !at.After(migration) {
		t.Errorf("append after the migration at %v, err %v", at, err)
	}
}
