package cli

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/api"
	"github.com/logbookhq/logbook/internal/scorecard"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/token"
)

// TestScorecardLookupErrors: a token that is not there, or is another
// account's, is "not found"; a store that fails (closed here) is an error
// of its own, not "not found".
func TestScorecardLookupErrors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := sqlitetest.New(t)
	now := time.Now().UTC()
	for _, a := range []store.Account{{UUID: "AAAAAAAAAAAAAAAAAAAAAAAAAA", Name: "A", CreatedAt: now}, {UUID: "BBBBBBBBBBBBBBBBBBBBBBBBBB", Name: "B", CreatedAt: now}} {
		if err := st.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateIntegration(ctx, store.Integration{UUID: "CCCCCCCCCCCCCCCCCCCCCCCCCC", AccountUUID: "AAAAAAAAAAAAAAAAAAAAAAAAAA", Name: "i", SIEM: "Other", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateToken(ctx, store.Token{ID: "tokA", IntegrationUUID: "CCCCCCCCCCCCCCCCCCCCCCCCCC", AccountUUID: "AAAAAAAAAAAAAAAAAAAAAAAAAA", Name: "a", KeyID: "k1", Hash: make([]byte, 32), Features: []events.Feature{events.AuditEvents}, IssuedAt: now}); err != nil {
		t.Fatal(err)
	}
	p := &sandboxParts{tracker: scorecard.NewTracker(st, scorecard.TrackerConfig{})}
	lookup := p.scorecard(st, time.Hour, time.Now)

	if _, err := lookup(ctx, "AAAAAAAAAAAAAAAAAAAAAAAAAA", "tokA"); err != nil {
		t.Fatalf("own token: %v", err)
	}
	if _, err := lookup(ctx, "AAAAAAAAAAAAAAAAAAAAAAAAAA", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown token: %v, want store.ErrNotFound", err)
	}
	if _, err := lookup(ctx, "BBBBBBBBBBBBBBBBBBBBBBBBBB", "tokA"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another account's token: %v, want store.ErrNotFound", err)
	}
	st.Close()
	_, err := lookup(ctx, "AAAAAAAAAAAAAAAAAAAAAAAAAA", "tokA")
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("closed store: %v, want an error that is not store.ErrNotFound", err)
	}
}

// TestScorecardCommandSaysHowFresh: `logbook scorecard` reads what servers
// wrote, up to 30 s old; it says when that was, and says so when no server
// has written the token's scorecard yet.
func TestScorecardCommandSaysHowFresh(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	st := sqlitetest.Open(t, filepath.Join(dir, dbFile))
	now := time.Now().UTC()
	acct := "AAAAAAAAAAAAAAAAAAAAAAAAAA"
	if err := st.CreateAccount(ctx, store.Account{UUID: acct, Name: "A", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateIntegration(ctx, store.Integration{UUID: "CCCCCCCCCCCCCCCCCCCCCCCCCC", AccountUUID: acct, Name: "i", SIEM: "Other", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	tok := store.Token{ID: "tokA", IntegrationUUID: "CCCCCCCCCCCCCCCCCCCCCCCCCC", AccountUUID: acct, Name: "splunk", KeyID: "k1", Hash: make([]byte, 32), Features: []events.Feature{events.AuditEvents}, IssuedAt: now}
	if err := st.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	run := func() string {
		t.Helper()
		var out bytes.Buffer
		if err := Main(ctx, []string{"scorecard", "--data", dir, "--token-name", "splunk"}, Env{Stdout: &out}); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	if out := run(); !strings.Contains(out, "No server has written this token's scorecard yet") {
		t.Errorf("before any flush:\n%s\nwant it to say no server has written it", out)
	}
	written := time.Date(2026, 12, 6, 21, 0, 5, 0, time.UTC)
	tr := scorecard.NewTracker(st, scorecard.TrackerConfig{Now: func() time.Time { return written }})
	r := httptest.NewRequest(http.MethodPost, "/api/v2/auditevents", nil)
	tr.Guard(nil)(httptest.NewRecorder(), r, api.Call{Token: token.Verified{Token: tok}, Feature: events.AuditEvents, Version: 2})
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if out := run(); !strings.Contains(out, "As of 2026-12-06 21:00:05Z") {
		t.Errorf("after a flush:\n%s\nwant \"As of 2026-12-06 21:00:05Z\"", out)
	}
}
