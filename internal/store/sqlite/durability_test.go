package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/store/storetest"
)

// TestSynchronousStaysFull checks that the relaxed commits of counters and
// token touches hand the writer back with synchronous=FULL for appends.
func TestSynchronousStaysFull(t *testing.T) {
	db := openTemp(t)
	ctx := t.Context()
	steps := []struct {
		name string
		do   func() error
	}{
		{"open", func() error { return nil }},
		{"IncrCounter", func() error { _, err := db.IncrCounter(ctx, "k", time.Now(), 1); return err }},
		{"TouchToken (not found)", func() error { db.TouchToken(ctx, "nosuch", time.Now()); return nil }},
		{"DeleteEventsBefore", func() error {
			if _, err := db.AppendEvents(ctx, "a", events.AuditEvents, storetest.Records(10, time.Now().Add(-time.Hour))); err != nil {
				return err
			}
			_, err := db.DeleteEventsBefore(ctx, time.Now())
			return err
		}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := sqlite.WriterSynchronous(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if got != 2 {
			t.Errorf("after %s: synchronous = %d, want 2 (FULL)", st.name, got)
		}
	}
}

const childEnv = "LOGBOOK_SQLITE_DURABILITY_CHILD"

// TestDurableAfterKill appends in a child process, kills it with SIGKILL
// right after it reports a batch stored, and checks that every reported
// batch is there after reopening.
func TestDurableAfterKill(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		durabilityChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "logbook.db")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestDurableAfterKill$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const wantBatches = 5
	acked := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "stored ") {
			acked++
			if acked == wantBatches {
				break
			}
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if acked < wantBatches {
		t.Fatalf("child acknowledged %d batches before ending, want %d", acked, wantBatches)
	}

	db := sqlitetest.Open(t, path)
	res, err := db.ListEvents(t.Context(), store.ListQuery{Account: "acct", Feature: events.SignInAttempts, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range res.Rows {
		seen[string(r.Data)] = true
	}
	for i := range acked {
		want := fmt.Sprintf(`{"batch":%d,"i":%d}`, i, 99)
		if !seen[want] {
			t.Errorf("batch %d acknowledged before the kill is missing", i)
		}
	}
}

// durabilityChild appends batches forever, reporting each after
// AppendEvents returns.
func durabilityChild(path string) {
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	t0 := time.Now()
	for b := 0; ; b++ {
		rs := make([]store.Record, 100)
		for i := range rs {
			rs[i] = store.Record{UUID: fmt.Sprintf("b%d-%d", b, i), Time: t0, Label: "x",
				V2: fmt.Appendf(nil, `{"batch":%d,"i":%d}`, b, i)}
		}
		if _, err := db.AppendEvents(context.Background(), "acct", events.SignInAttempts, rs); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("stored %d\n", b)
	}
}
