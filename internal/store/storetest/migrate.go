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

// PendingMigrator is a store handle that lists the migrations it lacks.
type PendingMigrator interface {
	store.Store
	PendingMigrations(ctx context.Context) ([]string, error)
}

// PendingMigrations checks db, opened on a new database without
// migrating: every one of migrations is pending, none once db has
// migrated, and db answers with an error once closed (it closes db).
func PendingMigrations(t *testing.T, db PendingMigrator, migrations []store.Migration) {
	t.Helper()
	var all []string
	for _, m := range migrations {
		all = append(all, m.Name)
	}
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
		t.Error("PendingMigrations on a closed handle: no error")
	}
}
