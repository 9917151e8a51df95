package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/logbookhq/logbook/internal/atomicfile"
	"github.com/logbookhq/logbook/internal/store/sqlite"
)

const backupUsage = `
Usage: logbook backup --to FILE [--data DIR] [--force]

Writes a consistent copy of the SQLite database (<data>/logbook.db) to FILE
while servers keep serving and appending: the copy is the database as of
one commit (SQLite's VACUUM INTO), compacted, with mode 0600. It is written
to a temporary file beside FILE and renamed, so FILE is never a partial
copy. An existing FILE is refused unless --force. Then it prints the size
and the events in each stream of the copy.

The copy holds every account, user, integration, token record, signing key
(private keys: keep the copy as secret as the data directory) and the
cursor key, so tokens and cursors work on a server restored from it; a
cursor taken after the backup is ahead of the copy and should be reset
from a start time. The database must exist: backup never creates one, and
never migrates it. To restore: stop the server, copy FILE to
<data>/logbook.db (removing logbook.db-wal and logbook.db-shm), keep
<data>/public-url (tokens' audience) and, with --tls, the CA and
certificate files, then start the server. See docs/operations.md.

With --db postgres://… there is nothing to copy here: use pg_dump and
pg_restore (docs/operations.md).

Examples:
  logbook backup --data /var/lib/logbook --to /backup/logbook-$(date +%F).db
  logbook backup --to ./logbook.db.bak --force
`

func runBackup(ctx context.Context, env Env, args []string) error {
	var f storeFlags
	var to string
	var force bool
	fs := newFlagSet(env, "backup", backupUsage)
	f.register(fs)
	fs.StringVar(&to, "to", "", "`file` to write the copy to (required); its directory must exist")
	fs.BoolVar(&force, "force", false, "replace --to if it exists (by a rename once the copy is complete)")
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	f.noMigrate = true
	backend, err := f.backend()
	if err != nil {
		return err
	}
	if backend != "sqlite" {
		return usagef("--db: backup copies the SQLite database; for PostgreSQL (%s) use pg_dump -Fc and pg_restore (docs/operations.md)", redactURL(f.db))
	}
	if to == "" {
		return usagef("--to: a file name is required")
	}
	if f.data == "" {
		return usagef("--data: empty directory name")
	}
	dbPath := filepath.Join(f.data, dbFile)
	if fi, err := os.Stat(dbPath); err != nil {
		return usagef("--data: no database at %s (%v)", dbPath, errors.Unwrap(err))
	} else if ti, err := os.Stat(to); err == nil && os.SameFile(fi, ti) {
		return usagef("--to: %s is the database itself", to)
	}
	dir := filepath.Dir(to)
	if di, err := os.Stat(dir); err != nil || !di.IsDir() {
		return usagef("--to: directory %s does not exist", dir)
	}
	if ti, err := os.Lstat(to); err == nil {
		if ti.IsDir() {
			return usagef("--to: %s is a directory", to)
		}
		if !force {
			return usagef("--to: %s exists; --force replaces it", to)
		}
	}

	st, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	db, ok := st.(*sqlite.DB)
	if !ok {
		return fmt.Errorf("backup: %s is not an SQLite store", f.describe())
	}
	tmpf, err := os.CreateTemp(dir, "."+filepath.Base(to)+".tmp*") // 0600
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	tmp := tmpf.Name()
	tmpf.Close()
	defer os.Remove(tmp) // no-op after a rename; the extra link otherwise
	info, err := db.Backup(ctx, tmp)
	if err != nil {
		return err
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	if force {
		err = os.Rename(tmp, to)
	} else {
		// A link fails if FILE appeared since the check: never clobbered.
		err = os.Link(tmp, to)
	}
	if errors.Is(err, os.ErrExist) {
		return usagef("--to: %s exists; --force replaces it", to)
	}
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	var total int64
	for _, s := range info.Streams {
		total += s.Events
	}
	fmt.Fprintf(env.Stdout, "wrote %s (%d bytes) from %s: %d events in %d streams\n", to, info.Bytes, f.describe(), total, len(info.Streams))
	for _, s := range info.Streams {
		fmt.Fprintf(env.Stdout, "  %-24s %-14s %d events\n", s.Account, s.Feature, s.Events)
	}
	return nil
}

// syncFile fsyncs the file at path.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
