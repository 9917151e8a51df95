package postgres_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/store/storetest"
	"github.com/logbookhq/logbook/internal/testenv"
)

// TestMerkleMigration: events stored before migration 0008 are numbered
// and hashed by it, and the next append builds the stream's frontier.
func TestMerkleMigration(t *testing.T) {
	url := testenv.PostgresSchema(t)
	db := open(t, url, postgres.Options{})
	ctx := t.Context()
	acct := events.NewID()
	rs := storetest.Records(30, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	if _, err := db.AppendEvents(ctx, acct, events.ItemUsages, rs[:20]); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// Back to the schema before 0008.
	if _, err := conn.Exec(ctx, `ALTER TABLE events DROP COLUMN idx, DROP COLUMN leaf;
		ALTER TABLE streams DROP COLUMN tree_size, DROP COLUMN tree_frontier;
		DROP TABLE tree_pruned, tree_keys, tree_heads; DELETE FROM schema_migrations WHERE version = 8`); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AppendEvents(ctx, acct, events.ItemUsages, rs[10:]); err != nil {
		t.Fatal(err)
	}
	if h := storetest.CheckTree(t, db, acct, events.ItemUsages); h.Size != 30 {
		t.Fatalf("tree of %d, want 30", h.Size)
	}
}
