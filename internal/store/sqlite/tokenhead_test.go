package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
)

// TestTokenHeadReuse checks the read connections' reuse of the token row
// and stream head they read last: reused while nothing was committed (the
// reuse counter proves the path runs), and never after a commit, whether
// the revocation or the append went through the same DB (its writer) or
// through a second handle on the same file, and with one read connection
// or several.
func TestTokenHeadReuse(t *testing.T) {
	for _, readers := range []int{1, 4} {
		for _, via := range []string{"same handle", "second handle"} {
			t.Run(fmt.Sprintf("%s/readers=%d", via, readers), func(t *testing.T) {
				testTokenHeadReuse(t, readers, via == "second handle")
			})
		}
	}
}

func testTokenHeadReuse(t *testing.T, readers int, second bool) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "logbook.db")
	open := func() *sqlite.DB {
		db, err := sqlite.Open(ctx, path, sqlite.Options{Readers: readers})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() {
			if err := db.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return db
	}
	db := open()
	w := db // the handle that writes
	if second {
		w = open()
	}
	base := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("CreateAccount", w.CreateAccount(ctx, store.Account{UUID: "acme", Name: "Acme", CreatedAt: base}))
	must("CreateIntegration", w.CreateIntegration(ctx, store.Integration{UUID: "in", AccountUUID: "acme", Name: "s", SIEM: "Splunk", CreatedAt: base}))
	tok := store.Token{ID: "t1", IntegrationUUID: "in", AccountUUID: "acme", Name: "poller",
		Features: []events.Feature{events.SignInAttempts}, KeyID: "k1", Hash: []byte{1, 2, 3}, IssuedAt: base}
	must("CreateToken", w.CreateToken(ctx, tok))
	n := 0
	appendOne := func() {
		t.Helper()
		n++
		u := fmt.Sprintf("e-%04d", n)
		r := store.Record{UUID: u, Time: base.Add(time.Duration(n) * time.Second), Label: "success",
			V2: fmt.Appendf(nil, `{"uuid":%q}`, u)}
		if _, err := w.AppendEvents(ctx, "acme", events.SignInAttempts, []store.Record{r}); err != nil {
			t.Fatalf("AppendEvents: %v", err)
		}
	}
	appendOne()

	// poll lists after the position after and returns the token as read
	// and the page.
	poll := func(after int64) (store.Token, store.ListResult) {
		t.Helper()
		var got store.Token
		res, err := db.ListEventsWithToken(ctx, "t1", store.ListQuery{Account: "acme", Feature: events.SignInAttempts, After: after, Limit: 10},
			func(t store.Token) error { got = t; return nil })
		if err != nil {
			t.Fatalf("ListEventsWithToken: %v", err)
		}
		return got, res
	}
	_, res := poll(0)
	if len(res.Rows) != 1 {
		t.Fatalf("first poll: %d rows, want 1", len(res.Rows))
	}
	head := res.Last
	// Drained polls with nothing committed: enough that every read
	// connection has read once and then reused.
	reuses0 := sqlite.TokenReuses(db)
	for range 4 * readers {
		got, res := poll(head)
		if len(res.Rows) != 0 || res.Last != head || !got.RevokedAt.IsZero() {
			t.Fatalf("drained poll: %d rows, last %d (want %d), revoked %v", len(res.Rows), res.Last, head, got.RevokedAt)
		}
		got.Features[0], got.Hash[0] = "changed by the caller", 9 // must not reach the kept copy
	}
	if sqlite.TokenReuses(db) == reuses0 {
		t.Fatalf("no drained poll reused its connection's token read")
	}

	for i := range 3 {
		// An append, then every connection's next poll sees it.
		appendOne()
		for range 2 * readers {
			got, res := poll(head)
			if len(res.Rows) != 1 {
				t.Fatalf("append %d: poll after %d: %d rows, want 1", i, head, len(res.Rows))
			}
			if got.Features[0] != events.SignInAttempts || got.Hash[0] != 1 {
				t.Fatalf("token read back as features %v, hash %v", got.Features, got.Hash)
			}
		}
		_, res := poll(head)
		head = res.Last
	}

	// A revocation, then every poll sees it.
	tok.RevokedAt = base.Add(time.Hour)
	must("UpdateToken", w.UpdateToken(ctx, tok))
	for range 4 * readers {
		got, _ := poll(head)
		if !got.RevokedAt.Equal(tok.RevokedAt) {
			t.Fatalf("poll after revocation: token revoked at %v, want %v", got.RevokedAt, tok.RevokedAt)
		}
	}
}

// TestReadersNeverWrite checks that the read connections refuse writes
// (query_only): their own writes would not change their PRAGMA
// data_version, so tokenHead's reuse relies on there being none.
func TestReadersNeverWrite(t *testing.T) {
	db := openTemp(t)
	for _, q := range []string{
		`INSERT INTO accounts (uuid, name, created_at) VALUES ('x', 'x', 0)`,
		`UPDATE tokens SET revoked_at = 1`,
		`CREATE TABLE t (x)`,
	} {
		if err := sqlite.ExecReader(t.Context(), db, q); err == nil {
			t.Errorf("%s on a read connection: no error, want one (query_only)", q)
		}
	}
}
