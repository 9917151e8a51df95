package cli

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/sandbox"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
)

// TestScorecardLookupErrors: a token that is not there, or is another
// account's, is "not found"; a store that fails (closed here) is an error
// of its own, not "not found".
func TestScorecardLookupErrors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), dbFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
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
	p := &sandboxParts{tracker: sandbox.NewTracker(st, sandbox.TrackerConfig{})}
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
	_, err = lookup(ctx, "AAAAAAAAAAAAAAAAAAAAAAAAAA", "tokA")
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("closed store: %v, want an error that is not store.ErrNotFound", err)
	}
}
