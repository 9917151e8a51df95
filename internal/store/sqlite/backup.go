package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ncruces/go-sqlite3"
)

// StreamCount is how many events one stream held in a backup.
type StreamCount struct {
	Account string // the account's name
	Feature string
	Events  int64
}

// BackupInfo describes a copy Backup wrote.
type BackupInfo struct {
	Bytes   int64
	Streams []StreamCount
}

// Backup writes a consistent copy of the database to path, which must not
// exist or be empty, with mode 0600 from the start. It is SQLite's VACUUM
// INTO: one read transaction, so the copy is the database as of one commit
// while other connections and processes keep writing (WAL readers never
// block the writer). The copy is compacted and has no WAL; a store opened
// on it converts it back. The events it holds per stream are counted from
// the copy itself.
func (db *DB) Backup(ctx context.Context, path string) (BackupInfo, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("backup: %w", err)
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return BackupInfo{}, fmt.Errorf("backup: %w", err)
	}
	if fi.Size() != 0 {
		return BackupInfo{}, fmt.Errorf("backup: %s is not empty", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("backup: %w", err)
	}
	err = rawConn(ctx, db.writer, func(c *sqlite3.Conn) error {
		st, _, err := c.Prepare(`VACUUM INTO ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.BindText(1, abs); err != nil {
			return err
		}
		return st.Exec()
	})
	if err != nil {
		return BackupInfo{}, fmt.Errorf("backup into %s: %w", path, translate(err))
	}
	info, err := countCopy(abs)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("backup: count events in %s: %w", path, err)
	}
	if fi, err = os.Stat(path); err != nil {
		return BackupInfo{}, fmt.Errorf("backup: %w", err)
	}
	info.Bytes = fi.Size()
	return info, nil
}

// countCopy counts the events per stream of the database file abs, opened
// read-only and immutable so that nothing is written beside it.
func countCopy(abs string) (info BackupInfo, err error) {
	c, err := sqlite3.OpenFlags("file:"+uriEscape(abs)+"?immutable=1", sqlite3.OPEN_READONLY|sqlite3.OPEN_URI)
	if err != nil {
		return info, err
	}
	defer func() { err = errors.Join(err, c.Close()) }()
	st, _, err := c.Prepare(`SELECT COALESCE(a.name, s.account), s.feature, COALESCE(SUM(h.n), 0)
		FROM streams s LEFT JOIN accounts a ON a.uuid = s.account LEFT JOIN event_hours h ON h.stream = s.id
		GROUP BY s.id ORDER BY 1, 2`)
	if err != nil {
		return info, err
	}
	defer st.Close()
	for st.Step() {
		info.Streams = append(info.Streams, StreamCount{Account: st.ColumnText(0), Feature: st.ColumnText(1), Events: st.ColumnInt64(2)})
	}
	return info, st.Err()
}
