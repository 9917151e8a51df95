package postgres_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/testenv"
)

// TestLegacyUUIDHeldTwice: a stream written before migration 0004 can hold
// one uuid as two events (event_uuids keeps the earliest). Re-sending
// either copy is a duplicate to skip, not a conflict; a third version of
// that uuid is still a conflict.
func TestLegacyUUIDHeldTwice(t *testing.T) {
	url := testenv.PostgresSchema(t)
	db := open(t, url, postgres.Options{})
	ctx := t.Context()
	acct := events.NewID()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := func(uuid string, ts time.Time) store.Record {
		return store.Record{UUID: uuid, Time: ts, Label: "x", V2: fmt.Appendf(nil, `{"uuid":%q,"timestamp":%q}`, uuid, ts.Format(time.RFC3339Nano))}
	}
	first, second, third := rec("U", t0), rec("U", t0.Add(time.Minute)), rec("U", t0.Add(time.Hour))
	if _, err := db.AppendEvents(ctx, acct, events.AuditEvents, []store.Record{first}); err != nil {
		t.Fatal(err)
	}

	// The second copy goes in as an older release stored it: into events
	// only, beside the first.
	execRaw(t, url, `INSERT INTO events (stream, seq, ts, uuid, label, v2)
		SELECT id, 1000, $3, $4, 'x', $5 FROM streams WHERE account = $1 AND feature = $2`,
		acct, string(events.AuditEvents), second.Time.UnixNano(), second.UUID, second.V2)

	for _, r := range []store.Record{first, second} {
		n, err := db.AppendEvents(ctx, acct, events.AuditEvents, []store.Record{r})
		if err != nil || n != 0 {
			t.Errorf("re-sending the copy at %s: inserted %d, err %v; want a skipped duplicate", r.Time, n, err)
		}
	}
	var c3 *store.UUIDConflict
	if _, err := db.AppendEvents(ctx, acct, events.AuditEvents, []store.Record{third}); !errors.As(err, &c3) || !c3.Held.Equal(t0) {
		t.Errorf("a third version of the uuid: err %v, want a conflict naming the first copy (%s)", err, t0)
	}
}
