package postgres_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/store/storetest"
	"github.com/logbookhq/logbook/internal/testenv"
)

// testURL returns LOGBOOK_TEST_POSTGRES_URL, or the local PostgreSQL when
// that is unset, or skips (fails under CI).
func testURL(t testing.TB) string {
	t.Helper()
	return testenv.PostgresURL(t)
}

// open opens a store on url and closes it when the test ends.
func open(t testing.TB, url string, opts postgres.Options) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// execRaw runs SQL on url over a connection of its own, beside the store,
// as an older release or a hand-made schema change would.
func execRaw(t testing.TB, url, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

func TestStore(t *testing.T) {
	testURL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, testenv.PostgresSchema(t), postgres.Options{}) })
}

// TestStressPools runs the stress test (8 writers, 8 readers on one
// stream) over four handles, each with its own connection pool, on one
// database: as four servers would share it.
func TestStressPools(t *testing.T) {
	url := testenv.PostgresSchema(t)
	var stores []store.Store
	for range 4 {
		stores = append(stores, open(t, url, postgres.Options{}))
	}
	storetest.Stress(t, stores)
}

// TestOverlapPools: writers on two handles (two servers) append batches
// that share events at once, then run the stress test: each server's
// appends guess their positions from its own, the other's commits make
// those guesses stale, and appends of the same events wait for each other
// before taking the checked path.
func TestOverlapPools(t *testing.T) {
	url := testenv.PostgresSchema(t)
	stores := []store.Store{open(t, url, postgres.Options{}), open(t, url, postgres.Options{})}
	storetest.ConcurrentOverlap(t, stores)
	storetest.Stress(t, stores)
}

// TestConcurrentMigrate opens one new schema from several handles and
// migrates from all at once: every migration is applied exactly once.
func TestConcurrentMigrate(t *testing.T) {
	url := testenv.PostgresSchema(t)
	const n = 4
	dbs := make([]storetest.Migrator, n)
	for i := range dbs {
		dbs[i] = open(t, url, postgres.Options{SkipMigrate: true})
	}
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	storetest.ConcurrentMigrate(t, dbs, ms)
}

// TestMigrationNumbersMatchSQLite: the two stores keep one numbering.
func TestMigrationNumbersMatchSQLite(t *testing.T) {
	entries, err := os.ReadDir("../sqlite/migrations")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		want = append(want, num)
	}
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		num, _, _ := strings.Cut(m.Name, "_")
		got = append(got, num)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("migration numbers (-sqlite +postgres):\n%s", d)
	}
}

// partitions lists the events partitions of the schema in url.
func partitions(t testing.TB, url string) []string {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rows, err := pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'events'::regclass ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func rec(id string, ts time.Time) store.Record {
	return store.Record{UUID: id, Time: ts, Label: "x", V2: []byte(`{"uuid":"` + id + `"}`)}
}

// TestRetentionDropsPartitions: appends make one partition per day of
// event time; retention drops the days wholly before the cutoff instead of
// deleting their rows, and a later append to a dropped day (another
// server's cache still believes in it) makes the partition again.
func TestRetentionDropsPartitions(t *testing.T) {
	url := testenv.PostgresSchema(t)
	a, b := open(t, url, postgres.Options{}), open(t, url, postgres.Options{})
	ctx := t.Context()
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	var rs []store.Record
	for i := range 4 {
		rs = append(rs, rec("d"+string(rune('0'+i)), day.Add(time.Duration(i)*24*time.Hour+time.Hour)))
	}
	if _, err := a.AppendEvents(ctx, "acct", events.AuditEvents, rs); err != nil {
		t.Fatal(err)
	}
	want := []string{"events_d20260310", "events_d20260311", "events_d20260312", "events_d20260313"}
	if d := cmp.Diff(want, partitions(t, url)); d != "" {
		t.Fatalf("partitions after append (-want +got):\n%s", d)
	}
	// Cut in the middle of the 12th: the 10th and 11th go whole.
	n, err := b.DeleteEventsBefore(ctx, day.Add(2*24*time.Hour+30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]store.StreamCount{{Account: "acct", Feature: events.AuditEvents, N: 2}}, n); d != "" {
		t.Errorf("DeleteEventsBefore removed (-want +got):\n%s", d)
	}
	if d := cmp.Diff(want[2:], partitions(t, url)); d != "" {
		t.Errorf("partitions after retention (-want +got):\n%s", d)
	}
	// a still caches the 10th as existing.
	if got, err := a.AppendEvents(ctx, "acct", events.AuditEvents, []store.Record{rec("late", day.Add(time.Minute))}); err != nil || got != 1 {
		t.Fatalf("append to a dropped day: inserted %d, err %v", got, err)
	}
	if d := cmp.Diff(append([]string{want[0]}, want[2:]...), partitions(t, url)); d != "" {
		t.Errorf("partitions after a late append (-want +got):\n%s", d)
	}
	res, err := b.ListEvents(ctx, store.ListQuery{Account: "acct", Feature: events.AuditEvents, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Rows {
		got = append(got, string(r.Data))
	}
	if d := cmp.Diff([]string{`{"uuid":"d2"}`, `{"uuid":"d3"}`, `{"uuid":"late"}`}, got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

func TestAppendRefusesTimesOutOfRange(t *testing.T) {
	db := open(t, testenv.PostgresSchema(t), postgres.Options{})
	for _, ts := range []time.Time{time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2250, 1, 1, 0, 0, 0, 0, time.UTC)} {
		_, err := db.AppendEvents(t.Context(), "acct", events.AuditEvents, []store.Record{rec("x", ts)})
		if err == nil || !strings.Contains(err.Error(), "time") {
			t.Errorf("AppendEvents at %v: err = %v, want one naming time", ts, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tt := range []struct{ name, url, want string }{
		{"empty", "", "url is empty"},
		{"not a URL", "postgres://u:secret@[::1/x", "url"},
		{"refused", "postgres://u:secret@127.0.0.1:1/test?connect_timeout=2", "127.0.0.1:1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := postgres.Open(t.Context(), tt.url, postgres.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open(%q): err = %v, want one containing %q", tt.url, err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("Open: err = %v reveals the password", err)
			}
		})
	}
}
