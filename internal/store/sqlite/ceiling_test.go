package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/logbookhq/logbook/internal/benchrate"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/storetest"
)

// BenchmarkCeiling measures what SQLite itself takes through the same
// driver, pragmas and page size as the store, with nothing of the store
// around it: 1,000-row transactions of the same ~700-byte events into a
// bare table, first with only the row id as key, then with the indexes
// de-duplication needs (a unique uuid index and a time index). The gap
// between this and BenchmarkAppend/new is the store's own cost (stream
// and position bookkeeping, the hour and label summaries).
func BenchmarkCeiling(b *testing.B) {
	for _, tc := range []struct{ name, schema string }{
		{"rowid-only", `CREATE TABLE events (seq INTEGER PRIMARY KEY, uuid TEXT NOT NULL, ts INTEGER NOT NULL, v2 BLOB NOT NULL)`},
		{"uuid-and-time-indexes", `CREATE TABLE events (seq INTEGER PRIMARY KEY, uuid TEXT NOT NULL, ts INTEGER NOT NULL, v2 BLOB NOT NULL);
			CREATE UNIQUE INDEX events_uuid ON events (uuid);
			CREATE INDEX events_ts ON events (ts)`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c, err := sqlite3.Open(filepath.Join(b.TempDir(), "ceiling.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			if err := c.Exec(`PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
				PRAGMA wal_autocheckpoint = 4000; PRAGMA cache_size = -16000; ` + tc.schema); err != nil {
				b.Fatal(err)
			}
			ins, _, err := c.Prepare(`INSERT INTO events (uuid, ts, v2) VALUES (?, ?, ?)`)
			if err != nil {
				b.Fatal(err)
			}
			defer ins.Close()
			t0 := time.Now().Add(-24 * time.Hour)
			n := 0
			meter := benchrate.Start()
			for b.Loop() {
				var rs []store.Record
				meter.Exclude(b, func() { rs = storetest.Records(1000, t0.Add(time.Duration(n)*time.Second)) })
				if err := c.Exec(`BEGIN IMMEDIATE`); err != nil {
					b.Fatal(err)
				}
				for _, r := range rs {
					ins.BindText(1, r.UUID)
					ins.BindInt64(2, r.Time.UnixNano())
					ins.BindBlob(3, r.V2)
					if err := ins.Exec(); err != nil {
						b.Fatal(err)
					}
				}
				if err := c.Exec(`COMMIT`); err != nil {
					b.Fatal(err)
				}
				n += len(rs)
			}
			meter.Report(b, n)
		})
	}
}
