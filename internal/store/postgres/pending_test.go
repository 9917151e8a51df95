package postgres_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/testenv"
)

// TestPendingMigrations: a schema opened without migrating has every
// embedded migration pending, one migrated none, and a closed pool answers
// with an error.
func TestPendingMigrations(t *testing.T) {
	url := testenv.PostgresSchema(t)
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, m := range ms {
		all = append(all, m.Name)
	}
	db := open(t, url, postgres.Options{SkipMigrate: true})
	got, err := db.PendingMigrations(t.Context())
	if err != nil {
		t.Fatalf("PendingMigrations before migrating: %v", err)
	}
	if diff := cmp.Diff(all, got); diff != "" {
		t.Errorf("pending before migrating (-want +got):\n%s", diff)
	}
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err = db.PendingMigrations(t.Context())
	if err != nil || len(got) != 0 {
		t.Errorf("PendingMigrations after migrating = %v, %v; want none", got, err)
	}
	db.Close()
	if _, err := db.PendingMigrations(t.Context()); err == nil {
		t.Error("PendingMigrations on a closed pool: no error")
	}
}
