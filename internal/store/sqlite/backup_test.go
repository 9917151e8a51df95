package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
)

// TestBackup: a copy is an SQLite database with mode 0600 that a store
// opens with the original's accounts; a file that is not empty is refused
// and left as it was.
func TestBackup(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	if err := db.CreateAccount(ctx, store.Account{UUID: "ACCT0000000000000000000001", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	full := filepath.Join(dir, "full.db")
	if err := os.WriteFile(full, []byte("not empty"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Backup(ctx, full); err == nil {
		t.Error("Backup into a file that is not empty succeeded")
	}
	if b, _ := os.ReadFile(full); string(b) != "not empty" {
		t.Errorf("Backup changed a file it refused: %q", b)
	}
	to := filepath.Join(dir, "copy.db")
	info, err := db.Backup(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(to)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || info.Bytes != fi.Size() || len(info.Streams) != 0 {
		t.Errorf("copy mode %v size %d, info %+v", fi.Mode().Perm(), fi.Size(), info)
	}
	cp, err := sqlite.Open(ctx, to, sqlite.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if a, err := cp.AccountByName(ctx, "Acme"); err != nil || a.UUID != "ACCT0000000000000000000001" {
		t.Errorf("account in the copy: %+v, %v", a, err)
	}
}
