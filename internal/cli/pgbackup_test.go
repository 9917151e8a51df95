package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/testenv"
)

// TestPostgresDumpRestore: what docs/operations.md says of pg_dump and
// pg_restore holds. pg_dump -Fc copies the database of a running server
// while it serves pages and while another connection appends events;
// pg_restore loads the copy into a new database, which logbook migrate
// finds up to date; a server on it, with the first server's public-url,
// serves the demo token the events of one moment between the first page
// and the end of the appends (whole batches only), the cursor a connector
// kept from the first server continues where it stopped, a token issued
// with one feature still has only that one, and a revoked token stays
// revoked. As TestBackupRestore does for SQLite.
func TestPostgresDumpRestore(t *testing.T) {
	var tools [2]string
	for i, name := range []string{"pg_dump", "pg_restore"} {
		p, err := exec.LookPath(name)
		if err != nil {
			testenv.Unavailable(t, "no %s on this machine (apt-get install postgresql-client)", name)
		}
		tools[i] = p
	}
	pgDump, pgRestore := tools[0], tools[1]
	ctx := context.Background()
	noEnv := func(string) string { return "" }
	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := Main(ctx, args, Env{Getenv: noEnv, Stdout: &out}); err != nil {
			t.Fatalf("logbook %v: %v", args, err)
		}
		return out.String()
	}

	dbA := testenv.PostgresDatabase(t)
	dataA := t.TempDir()
	// No rate limit: the reads below go as fast as the server answers.
	unlimited := []string{"--rate-per-minute", "0", "--rate-per-hour", "0"}
	urlA, stopA := startServe(t, append([]string{"--data", dataA, "--db", dbA, "--listen", "127.0.0.1:0"}, unlimited...)...)
	raw, err := os.ReadFile(filepath.Join(dataA, "demo.token"))
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(raw))
	auditOnly := strings.TrimSpace(run("token", "issue", "--data", dataA, "--db", dbA, "--name", "audit-only", "--features", "auditevents"))
	revoked := strings.TrimSpace(run("token", "issue", "--data", dataA, "--db", dbA, "--name", "revoked"))
	run("token", "revoke", "--data", dataA, "--db", dbA, "revoked")
	cA, err := client.New(urlA, tok)
	if err != nil {
		t.Fatal(err)
	}
	const feature = events.SignInAttempts
	reset, first, before := readBeforeCopy(t, cA, feature)

	// Appends in batches of 10 from another connection pool, as from
	// another server, and pages read from the server, both until pg_dump
	// ends.
	st, err := postgres.Open(ctx, dbA, postgres.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	load := startCopyLoad(t, st, cA, feature, reset)
	dump := filepath.Join(t.TempDir(), "logbook.dump")
	start := time.Now()
	out, err := exec.Command(pgDump, "-Fc", "-d", dbA, "-f", dump).CombinedOutput()
	dumpTook := time.Since(start)
	appendErr, readErr := load.stop()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	if appendErr != nil || readErr != nil {
		t.Fatalf("during pg_dump: append %v, read %v", appendErr, readErr)
	}
	after := pageAll(t, cA, feature, reset)
	others := map[events.Feature][]string{}
	for _, f := range events.AllFeatures {
		if f != feature {
			others[f] = pageAll(t, cA, f, reset)
		}
	}
	if err := stopA(); err != nil {
		t.Fatal(err)
	}

	// Restore into a new database, as on a new database server.
	dbB := testenv.PostgresDatabase(t)
	start = time.Now()
	if out, err := exec.Command(pgRestore, "--no-owner", "--exit-on-error", "-d", dbB, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	restoreTook := time.Since(start)
	fi, err := os.Stat(dump)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pg_dump -Fc: %v, %d bytes; pg_restore: %v; %d %s events before, %d after",
		dumpTook.Round(time.Millisecond), fi.Size(), restoreTook.Round(time.Millisecond), len(before), feature, len(after))
	if out := run("migrate", "--db", dbB); !strings.Contains(out, "up to date") || strings.Contains(out, "applied") {
		t.Errorf("migrate on the restored database printed %q, want only that it is up to date", out)
	}

	dataB := t.TempDir()
	pub, err := os.ReadFile(filepath.Join(dataA, publicURLFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataB, publicURLFile), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	urlB, _ := startServe(t, append([]string{"--data", dataB, "--db", dbB, "--listen", "127.0.0.1:0"}, unlimited...)...)
	if _, err := os.Stat(filepath.Join(dataB, "demo.token")); err == nil {
		t.Error("the server on the restored database made a new demo: it found no accounts")
	}
	cB, err := client.New(urlB, tok)
	if err != nil {
		t.Fatal(err)
	}
	got := pageAll(t, cB, feature, reset)
	checkRestored(t, got, before, after, "pg_dump", "the dump")
	for f, want := range others {
		if got := pageAll(t, cB, f, reset); !slices.Equal(got, want) {
			t.Errorf("%s: restored server serves %d events, the first server served %d", f, len(got), len(want))
		}
	}
	checkKeptCursor(t, cB, feature, first.Cursor, got[len(first.Items):])

	cAudit, err := client.New(urlB, auditOnly)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := cAudit.RawPage(ctx, events.AuditEvents, reset); err != nil || len(p.Items) == 0 {
		t.Errorf("the auditevents token on the restored server: %d events, %v; want some", len(p.Items), err)
	}
	if _, err := cAudit.RawPage(ctx, feature, reset); !refusedWith(err, 401, 403) {
		t.Errorf("the auditevents token read %s on the restored server: err %v, want it refused", feature, err)
	}
	cRevoked, err := client.New(urlB, revoked)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cRevoked.RawPage(ctx, events.AuditEvents, reset); !refusedWith(err, 401) {
		t.Errorf("the revoked token on the restored server: err %v, want 401", err)
	}
}

// refusedWith reports whether err is a *client.Error with one of the statuses.
func refusedWith(err error, statuses ...int) bool {
	var ce *client.Error
	return errors.As(err, &ce) && slices.Contains(statuses, ce.StatusCode)
}
