package store_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/internal/store"
)

// memDriver is an in-memory store.MigrationDriver: what a transaction
// records shows in versions only once it commits. fail makes the step
// named fail with the error.
type memDriver struct {
	versions map[int]bool
	ran      []string // migrations whose SQL ran, committed or not
	fail     map[string]error
}

func (d *memDriver) Migrations() ([]store.Migration, error) { return migrations, nil }

func (d *memDriver) BeginMigration(context.Context) (store.MigrationTx, error) {
	if err := d.fail["begin"]; err != nil {
		return nil, err
	}
	return &memTx{d: d}, nil
}

func (d *memDriver) AppliedVersions(context.Context) (map[int]bool, error) {
	if err := d.fail["versions"]; err != nil {
		return nil, err
	}
	return d.versions, nil
}

type memTx struct {
	d       *memDriver
	pending []int
	done    bool
}

func (tx *memTx) Applied(_ context.Context, v int) (bool, error) { return tx.d.versions[v], nil }

func (tx *memTx) Run(_ context.Context, m store.Migration) error {
	tx.d.ran = append(tx.d.ran, m.Name)
	return tx.d.fail["run "+m.Name]
}

func (tx *memTx) Record(_ context.Context, m store.Migration, at int64) error {
	if at <= 0 {
		return errors.New("no time")
	}
	tx.pending = append(tx.pending, m.Version)
	return nil
}

func (tx *memTx) Commit(context.Context) error {
	if err := tx.d.fail["commit"]; err != nil {
		return err
	}
	for _, v := range tx.pending {
		tx.d.versions[v] = true
	}
	tx.done = true
	return nil
}

func (tx *memTx) Rollback(context.Context) error { return nil }

var migrations = []store.Migration{
	{Version: 1, Name: "0001_init.sql"},
	{Version: 2, Name: "0002_more.sql"},
	{Version: 3, Name: "0003_last.sql"},
}

// TestApplyMigrations: the runner applies, in order, only what is not
// recorded; a failure stops it with the migration's name, returns what it
// applied before, and records nothing of the failed one; a second run
// applies the rest.
func TestApplyMigrations(t *testing.T) {
	ctx := t.Context()
	log := slog.New(slog.DiscardHandler)
	boom := errors.New("boom")
	d := &memDriver{versions: map[int]bool{1: true}, fail: map[string]error{"run 0003_last.sql": boom}}

	pending, err := store.PendingMigrations(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"0002_more.sql", "0003_last.sql"}, pending); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}

	applied, err := store.ApplyMigrations(ctx, d, log)
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "migrate 0003_last.sql: ") {
		t.Errorf("err = %v, want boom, named after 0003_last.sql", err)
	}
	if diff := cmp.Diff([]string{"0002_more.sql"}, applied); diff != "" {
		t.Errorf("applied before the failure (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[int]bool{1: true, 2: true}, d.versions); diff != "" {
		t.Errorf("recorded (-want +got):\n%s", diff)
	}

	delete(d.fail, "run 0003_last.sql")
	d.ran = nil
	applied, err = store.ApplyMigrations(ctx, d, log)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"0003_last.sql"}, applied); diff != "" {
		t.Errorf("applied on the second run (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"0003_last.sql"}, d.ran); diff != "" {
		t.Errorf("ran on the second run (-want +got):\n%s", diff)
	}
	pending, err = store.PendingMigrations(ctx, d)
	if err != nil || len(pending) != 0 {
		t.Errorf("pending after migrating = %v, %v; want none", pending, err)
	}
}

// TestApplyMigrationsFailures: a transaction that cannot begin or commit
// fails the run at the first migration, which is then not counted as
// applied; an unreadable schema_migrations fails PendingMigrations.
func TestApplyMigrationsFailures(t *testing.T) {
	boom := errors.New("boom")
	for _, step := range []string{"begin", "commit"} {
		d := &memDriver{versions: map[int]bool{}, fail: map[string]error{step: boom}}
		applied, err := store.ApplyMigrations(t.Context(), d, slog.New(slog.DiscardHandler))
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "migrate 0001_init.sql") || len(applied) != 0 {
			t.Errorf("%s fails: applied %v, err %v; want none and boom for 0001_init.sql", step, applied, err)
		}
		if len(d.versions) != 0 {
			t.Errorf("%s fails: recorded %v", step, d.versions)
		}
	}
	d := &memDriver{fail: map[string]error{"versions": boom}}
	if _, err := store.PendingMigrations(t.Context(), d); !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "pending migrations: ") {
		t.Errorf("PendingMigrations = %v, want boom wrapped as pending migrations", err)
	}
}
