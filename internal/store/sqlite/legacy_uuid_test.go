package sqlite_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
)

// TestLegacyUUIDHeldTwice: a stream written before uuids were checked can
// hold one uuid as two events (another timestamp each). Re-sending either
// copy, as a connector or a reloaded file does, is a duplicate to skip,
// not a conflict; a third version of that uuid is still a conflict.
func TestLegacyUUIDHeldTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logbook.db")
	db := sqlitetest.Open(t, path)
	acct := events.NewID()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := func(uuid string, ts time.Time) store.Record {
		return store.Record{UUID: uuid, Time: ts, Label: "x", V2: fmt.Appendf(nil, `{"uuid":%q,"timestamp":%q}`, uuid, ts.Format(time.RFC3339Nano))}
	}
	first, second, third := rec("U", t0), rec("U", t0.Add(time.Minute)), rec("U", t0.Add(time.Hour))
	if _, err := db.AppendEvents(t.Context(), acct, events.AuditEvents, []store.Record{first}); err != nil {
		t.Fatal(err)
	}

	// The second copy goes in as an older release stored it: straight
	// into the stream's table, beside the first.
	c, err := sqlite3.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ins, _, err := c.Prepare(`INSERT INTO ` + sqlitetest.EventsTable(t, c, acct, events.AuditEvents) + ` (seq, uuid, ts, label, v2) VALUES (1000, ?, ?, 'x', ?)`)
	if err != nil {
		t.Fatal(err)
	}
	ins.BindText(1, second.UUID)
	ins.BindInt64(2, second.Time.UnixNano())
	ins.BindBlob(3, second.V2)
	if err := ins.Exec(); err != nil {
		t.Fatal(err)
	}
	ins.Close()

	for _, r := range []store.Record{first, second} {
		n, err := db.AppendEvents(t.Context(), acct, events.AuditEvents, []store.Record{r})
		if err != nil || n != 0 {
			t.Errorf("re-sending the copy at %s: inserted %d, err %v; want a skipped duplicate", r.Time, n, err)
		}
	}
	var c3 *store.UUIDConflict
	if _, err := db.AppendEvents(t.Context(), acct, events.AuditEvents, []store.Record{third}); !errors.As(err, &c3) || !c3.Held.Equal(t0) {
		t.Errorf("a third version of the uuid: err %v, want a conflict naming the first copy (%s)", err, t0)
	}
}
