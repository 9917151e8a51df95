package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/internal/store"
)

// Migrator is a store handle that can say which migrations it applied.
type Migrator interface {
	store.Store
	ApplyMigrations(ctx context.Context) ([]string, error)
}

// ConcurrentMigrate migrates one new database from every handle at once
// (opened without migrating) and checks that each of migrations was applied
// exactly once and that every handle then sees the schema.
func ConcurrentMigrate(t *testing.T, handles []Migrator, migrations []store.Migration) {
	t.Helper()
	type result struct {
		applied []string
		err     error
	}
	results := make(chan result, len(handles))
	start := make(chan struct{})
	for _, db := range handles {
		go func() {
			<-start
			applied, err := db.ApplyMigrations(t.Context())
			results <- result{applied, err}
		}()
	}
	close(start)
	count := map[string]int{}
	for range handles {
		r := <-results
		if r.err != nil {
			t.Fatalf("ApplyMigrations: %v", r.err)
		}
		for _, name := range r.applied {
			count[name]++
		}
	}
	want := map[string]int{}
	for _, m := range migrations {
		want[m.Name] = 1
	}
	if d := cmp.Diff(want, count); d != "" {
		t.Errorf("applications per migration (-want +got):\n%s", d)
	}
	for i, db := range handles {
		if _, err := db.Accounts(t.Context()); err != nil {
			t.Errorf("handle %d after migration: %v", i, err)
		}
	}
}
