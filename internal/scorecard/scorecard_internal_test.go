package scorecard

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/api"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/token"
)

// serve passes one request of call through the tracker's guard, then
// tells it a page was served.
func serve(tr *Tracker, call api.Call, served api.Served) {
	r := httptest.NewRequest(http.MethodPost, "/api/v2/auditevents", nil)
	tr.Guard(nil)(httptest.NewRecorder(), r, call)
	tr.Observe(call, served)
}

// TestTrackerStoreErrorsReported: reading a stream's high-water position
// on a failing store (closed here) is logged with the error, no longer
// dropped, and Flush returns its error.
func TestTrackerStoreErrorsReported(t *testing.T) {
	db := sqlitetest.New(t)
	var logs bytes.Buffer
	tr := NewTracker(db, TrackerConfig{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	db.Close()
	call := api.Call{Token: token.Verified{Token: store.Token{ID: "tok1"}}, Feature: events.AuditEvents, Version: 2}
	serve(tr, call, api.Served{First: 1, Last: 3, Items: 3})
	if got := logs.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "tok1") || !strings.Contains(got, "err=") {
		t.Errorf("log = %q, want a warning naming the token and the error", got)
	}
	if err := tr.Flush(t.Context()); err == nil {
		t.Error("Flush on a closed store returned nil")
	}
}

// TestTrackerFlushKeepsCountsOnError: counts a Flush could not write are
// written by the next one, not lost.
func TestTrackerFlushKeepsCountsOnError(t *testing.T) {
	good := sqlitetest.New(t)
	bad := sqlitetest.New(t)
	tr := NewTracker(good, TrackerConfig{})
	call := api.Call{Token: token.Verified{Token: store.Token{ID: "tok2"}}, Feature: events.AuditEvents, Version: 2}
	serve(tr, call, api.Served{First: 1, Last: 4, Items: 4})
	bad.Close()
	tr.st = bad
	if err := tr.Flush(t.Context()); err == nil {
		t.Fatal("Flush on a closed store returned nil")
	}
	tr.st = good
	if err := tr.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	for metric, want := range map[string]int64{mRequests: 1, mDelivered: 4} {
		got, err := good.IncrCounter(t.Context(), counterKey("tok2", metric, events.AuditEvents), totalsWindow, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %d after the failed flush and a good one, want %d", metric, got, want)
		}
	}
}

// TestScorecardSaysHowFresh: a report carries when a server last wrote
// the token's numbers, so that a reader in another process (logbook
// scorecard) can tell how current they are; before any write it is zero.
func TestScorecardSaysHowFresh(t *testing.T) {
	db := sqlitetest.New(t)
	at := time.Date(2026, 12, 6, 21, 0, 5, 0, time.UTC)
	tr := NewTracker(db, TrackerConfig{Now: func() time.Time { return at }})
	tok := store.Token{ID: "tok3", AccountUUID: "AAAAAAAAAAAAAAAAAAAAAAAAAA", Features: []events.Feature{events.AuditEvents}}
	sc, err := Report(t.Context(), db, tok, at.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !sc.WrittenAt.IsZero() {
		t.Errorf("WrittenAt before any flush = %v, want zero", sc.WrittenAt)
	}
	call := api.Call{Token: token.Verified{Token: tok}, Feature: events.AuditEvents, Version: 2}
	serve(tr, call, api.Served{First: 1, Last: 2, Items: 2})
	for _, now := range []time.Time{at, at.Add(30 * time.Second)} {
		at = now
		if err := tr.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		sc, err := Report(t.Context(), db, tok, at.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !sc.WrittenAt.Equal(now) {
			t.Errorf("WrittenAt = %v, want the flush's time %v", sc.WrittenAt, now)
		}
	}
}
