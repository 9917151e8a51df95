package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/storetest"
)

// TestUpgradeToStreamTables fills a database of schema 1 (one shared events
// table), migrates it, and checks every event is in its stream at its old
// position, and that appends go on after the old positions.
func TestUpgradeToStreamTables(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "logbook.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlite.ExecWriter(ctx, db, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if ok, err := sqlite.ApplyMigration(ctx, db, ms[0]); !ok || err != nil {
		t.Fatalf("migration 1: %v, %v", ok, err)
	}
	// Two streams, their events interleaved in the shared table.
	must := func(q string, args ...any) {
		t.Helper()
		if err := sqlite.ExecWriter(ctx, db, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	must(`INSERT INTO streams (id, account, feature) VALUES (1, 'acct', 'itemusages'), (2, 'acct', 'auditevents')`)
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	want := map[int64][]int64{}
	for seq := int64(1); seq <= 30; seq++ {
		stream := 1 + seq%2
		ts := t0.Add(time.Duration(seq) * time.Second)
		must(`INSERT INTO events (seq, stream, uuid, ts, label, v2, v1) VALUES (?, ?, ?, ?, 'fill', ?, NULL)`,
			seq, stream, fmt.Sprintf("E%03d", seq), ts.UnixNano(), fmt.Sprintf(`{"n":%d}`, seq))
		want[stream] = append(want[stream], seq)
	}
	must(`UPDATE positions SET last_seq = 30`)
	// The hour summary schema 1's appends kept: all in t0's hour.
	hour := t0.UnixNano() / store.HourNanos
	must(`INSERT INTO event_hours (stream, hour, min_seq, max_seq, n) VALUES (1, ?, 2, 30, 15), (2, ?, 1, 29, 15)`, hour, hour)
	// Migration 0006 gives them the end of that hour as insertion time.
	inserted := t0.Truncate(time.Hour).Add(time.Hour - time.Nanosecond)

	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	for stream, f := range map[int64]events.Feature{1: events.ItemUsages, 2: events.AuditEvents} {
		res, err := db.ListEvents(ctx, store.ListQuery{Account: "acct", Feature: f, Limit: 100, WithInserted: true})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range res.Rows {
			got = append(got, r.Seq)
			if string(r.Data) != fmt.Sprintf(`{"n":%d}`, r.Seq) {
				t.Errorf("%s: row %d holds %s", f, r.Seq, r.Data)
			}
			if !r.Inserted.Equal(inserted) {
				t.Errorf("%s: row %d inserted %v, want %v", f, r.Seq, r.Inserted, inserted)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want[stream]) {
			t.Errorf("%s: positions %v, want %v", f, got, want[stream])
		}
	}
	// The old event is still known (a repeat is skipped), and a new one
	// gets a position after every old one.
	dup := store.Record{UUID: "E001", Time: t0.Add(time.Second), Label: "fill", V2: []byte(`{"n":1}`)}
	if n, err := db.AppendEvents(ctx, "acct", events.AuditEvents, []store.Record{dup}); err != nil || n != 0 {
		t.Errorf("repeat of a migrated event: %d, %v; want skipped", n, err)
	}
	if _, err := db.AppendEvents(ctx, "acct", events.ItemUsages, storetest.Records(1, t0)); err != nil {
		t.Fatal(err)
	}
	if head, err := db.HeadPosition(ctx, "acct", events.ItemUsages); err != nil || head != 31 {
		t.Errorf("head after a new append = %d, %v; want 31", head, err)
	}
	if err := sqlite.ExecWriter(ctx, db, `SELECT 1 FROM events_shared`); err == nil {
		t.Errorf("events_shared still exists")
	}
}
