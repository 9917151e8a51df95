package sqlite_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
// through a second handle on the same file or from another process, and
// with one read connection or several.
func TestTokenHeadReuse(t *testing.T) {
	for _, readers := range []int{1, 4} {
		for _, via := range []string{"same handle", "second handle", "other process"} {
			t.Run(fmt.Sprintf("%s/readers=%d", via, readers), func(t *testing.T) {
				testTokenHeadReuse(t, readers, via)
			})
		}
	}
}

// TestWriterProcess is the other process of TestTokenHeadReuse: it
// appends event n (or revokes t1 if n is 0) in the database named by the
// environment, then exits.
func TestWriterProcess(t *testing.T) {
	path := os.Getenv("LOGBOOK_TEST_WRITER_DB")
	if path == "" {
		t.Skip("run by TestTokenHeadReuse")
	}
	n, err := strconv.Atoi(os.Getenv("LOGBOOK_TEST_WRITER_N"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := writeOne(t, db, n); err != nil {
		t.Fatal(err)
	}
}

var headBase = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// writeOne appends event n to acme's sign-in attempts, or revokes token
// t1 if n is 0.
func writeOne(t testing.TB, db *sqlite.DB, n int) error {
	ctx := t.Context()
	if n == 0 {
		tok, err := db.Token(ctx, "t1")
		if err != nil {
			return err
		}
		tok.RevokedAt = headBase.Add(time.Hour)
		return db.UpdateToken(ctx, tok)
	}
	u := fmt.Sprintf("e-%04d", n)
	r := store.Record{UUID: u, Time: headBase.Add(time.Duration(n) * time.Second), Label: "success",
		V2: fmt.Appendf(nil, `{"uuid":%q}`, u)}
	_, err := db.AppendEvents(ctx, "acme", events.SignInAttempts, []store.Record{r})
	return err
}

func testTokenHeadReuse(t *testing.T, readers int, via string) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "logbook.db")
	open := func() *sqlite.DB { return openPath(t, path, sqlite.Options{Readers: readers}) }
	db := open()
	w := db // the handle that writes
	if via == "second handle" {
		w = open()
	}
	base := headBase
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
	// write appends event n, or revokes t1 if n is 0.
	write := func(n int) {
		t.Helper()
		if via != "other process" {
			must("write", writeOne(t, w, n))
			return
		}
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestWriterProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "LOGBOOK_TEST_WRITER_DB="+path, "LOGBOOK_TEST_WRITER_N="+strconv.Itoa(n))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("writer process: %v\n%s", err, out)
		}
	}
	n := 0
	appendOne := func() {
		t.Helper()
		n++
		write(n)
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
	write(0)
	tok.RevokedAt = base.Add(time.Hour)
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
