package postgres_test

import (
	"testing"

	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/store/storetest"
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
	storetest.PendingMigrations(t, open(t, url, postgres.Options{SkipMigrate: true}), ms)
}
