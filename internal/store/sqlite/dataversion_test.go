package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/ncruces/go-sqlite3"
)

// BenchmarkDataVersion: PRAGMA data_version on a read connection, the
// statement kept prepared, as tokenHead runs it before every poll.
func BenchmarkDataVersion(b *testing.B) {
	db, err := Open(b.Context(), filepath.Join(b.TempDir(), "logbook.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	err = rawConn(b.Context(), db.reader, func(c *sqlite3.Conn) error {
		cs := db.stmts.state(c)
		for b.Loop() {
			if _, err := dataVersion(c, cs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
