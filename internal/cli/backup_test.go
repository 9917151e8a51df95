package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
)

// pageAll pages feature from req to the end and returns the items as the
// server sent them.
func pageAll(t *testing.T, c *client.Client, feature events.Feature, req client.Request) []string {
	t.Helper()
	var items []string
	for {
		p, err := c.RawPage(context.Background(), feature, req)
		if err != nil {
			t.Fatalf("%s page at %s: %v", feature, c.BaseURL(), err)
		}
		for _, it := range p.Items {
			items = append(items, string(it))
		}
		if !p.HasMore {
			return items
		}
		req = client.FromCursor(p.Cursor)
	}
}

// TestBackupRestore: "logbook backup" copies the database of a running
// server while it serves pages and while another process appends events;
// a second server started on a new data directory holding the copy and
// public-url serves, for the demo token, the events of a moment between the
// first page and the end of the appends, and a cursor kept from the first
// server continues on it where it stopped.
func TestBackupRestore(t *testing.T) {
	dataA := t.TempDir()
	urlA, stopA := startServe(t, "--data", dataA, "--listen", "127.0.0.1:0")
	raw, err := os.ReadFile(filepath.Join(dataA, "demo.token"))
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(raw))
	cA, err := client.New(urlA, tok)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const feature = events.SignInAttempts
	reset, first, before := readBeforeCopy(t, cA, feature)

	// Appends from another connection to the same file, as from another
	// process, and pages read from the server, both until the backup ends.
	st, err := sqlite.Open(ctx, filepath.Join(dataA, dbFile), sqlite.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	load := startCopyLoad(t, st, cA, feature, reset)
	backupDir := t.TempDir()
	copyFile := filepath.Join(backupDir, "logbook-copy.db")
	var out bytes.Buffer
	err = Main(ctx, []string{"backup", "--data", dataA, "--to", copyFile}, Env{Getenv: func(string) string { return "" }, Stdout: &out})
	appendErr, readErr := load.stop()
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if appendErr != nil || readErr != nil {
		t.Fatalf("during the backup: append %v, read %v", appendErr, readErr)
	}
	t.Logf("backup output:\n%s", out.String())
	fi, err := os.Stat(copyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("copy has mode %v, want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(out.String(), fmt.Sprintf("wrote %s (%d bytes)", copyFile, fi.Size())) {
		t.Errorf("backup output does not say what it wrote:\n%s", out.String())
	}
	if left, _ := filepath.Glob(filepath.Join(backupDir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left beside the copy: %v", left)
	}
	after := pageAll(t, cA, feature, reset)
	if err := stopA(); err != nil {
		t.Fatal(err)
	}

	// Restore on a new data directory: the copy and public-url.
	dataB := t.TempDir()
	b, err := os.ReadFile(copyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataB, dbFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(dataA, publicURLFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataB, publicURLFile), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	urlB, _ := startServe(t, "--data", dataB, "--listen", "127.0.0.1:0")
	cB, err := client.New(urlB, tok)
	if err != nil {
		t.Fatal(err)
	}
	got := pageAll(t, cB, feature, reset)
	checkRestored(t, got, before, after, "the backup", "the copy")
	m := regexp.MustCompile(`(?m)^  \S.*\s` + string(feature) + `\s+(\d+) events$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Errorf("backup output has no line for %s:\n%s", feature, out.String())
	} else if n, _ := strconv.Atoi(m[1]); n != len(got) {
		t.Errorf("backup counted %d %s, the restored server serves %d", n, feature, len(got))
	}
	checkKeptCursor(t, cB, feature, first.Cursor, got[len(first.Items):])
}

// copyLoad is the load on a server while its database is copied: one
// goroutine appends batches of 10 sign-in attempts through a store handle
// of its own, as another process would, and one reads pages from the
// server.
type copyLoad struct {
	done               chan struct{}
	wg                 sync.WaitGroup
	appendErr, readErr error
}

// startCopyLoad starts the load on the demo account of st and returns once
// the first batch is committed.
func startCopyLoad(t *testing.T, st store.Store, c *client.Client, feature events.Feature, reset client.Request) *copyLoad {
	t.Helper()
	ctx := context.Background()
	accts, err := st.Accounts(ctx)
	if err != nil || len(accts) != 1 {
		t.Fatalf("accounts = %v, %v; want the demo's", accts, err)
	}
	l := &copyLoad{done: make(chan struct{})}
	firstBatch := make(chan struct{})
	l.wg.Add(2)
	go func() {
		defer l.wg.Done()
		for i := 0; ; i++ {
			select {
			case <-l.done:
				return
			default:
			}
			w := ingest.NewWriter(st, accts[0].UUID, 0)
			for j := range 10 {
				ev := &events.SignInAttempt{UUID: events.NewID(), SessionUUID: events.NewID(), Timestamp: time.Now().UTC().Add(time.Duration(j) * time.Microsecond),
					Country: "CA", Category: "success", Type: "credentials_ok",
					TargetUser: events.User{UUID: events.NewID(), Name: "A", Email: "a@example.com"},
					Client:     events.Client{AppName: "1Password for Web", AppVersion: "1", PlatformName: "Chrome", PlatformVersion: "1", OSName: "Linux", OSVersion: "6", IPAddress: "192.0.2.1"}}
				if l.appendErr = w.Add(ctx, ev); l.appendErr != nil {
					return
				}
			}
			if l.appendErr = w.Flush(ctx); l.appendErr != nil {
				return
			}
			if i == 0 {
				close(firstBatch)
			}
		}
	}()
	go func() {
		defer l.wg.Done()
		for {
			select {
			case <-l.done:
				return
			default:
			}
			if _, l.readErr = c.RawPage(ctx, feature, reset); l.readErr != nil {
				return
			}
		}
	}()
	select {
	case <-firstBatch:
	case <-time.After(30 * time.Second):
		appendErr, _ := l.stop()
		t.Fatalf("no append committed within 30s (%v)", appendErr)
	}
	return l
}

// stop ends the load and returns the first error of each goroutine.
func (l *copyLoad) stop() (appendErr, readErr error) {
	close(l.done)
	l.wg.Wait()
	return l.appendErr, l.readErr
}

// readBeforeCopy starts what the backup tests read before a copy: a reset
// to pages of 7 from 60 days back, its first page (whose cursor is kept, to
// continue on the restored server) and every event of the stream then.
func readBeforeCopy(t *testing.T, c *client.Client, feature events.Feature) (client.Request, events.RawPage, []string) {
	t.Helper()
	reset := client.FromReset(events.ResetCursor{Limit: 7, StartTime: ptrTime(time.Now().Add(-60 * 24 * time.Hour))})
	first, err := c.RawPage(t.Context(), feature, reset)
	if err != nil {
		t.Fatal(err)
	}
	if !first.HasMore {
		t.Fatalf("the demo's %s fit one page of 7; the test needs more", feature)
	}
	return reset, first, pageAll(t, c, feature, reset)
}

// checkRestored checks the events got that a server on the restored copy
// serves against those the first server served before the copy began and
// after it ended: all of before, then whole batches of those appended
// during it (one consistent state), and no more than after. during names
// the copy ("the backup"), copyName what it wrote ("the copy").
func checkRestored(t *testing.T, got, before, after []string, during, copyName string) {
	t.Helper()
	if len(got) <= len(before) || !slices.Equal(got[:len(before)], before) {
		t.Errorf("restored server serves %d events, want the %d served before %s and then some appended during it", len(got), len(before), during)
	}
	if n := len(got) - len(before); n%10 != 0 {
		t.Errorf("%s holds %d appended events, not whole batches of 10: not one snapshot", copyName, n)
	}
	if len(got) > len(after) || !slices.Equal(got, after[:len(got)]) {
		t.Errorf("restored server's %d events are not the first of the %d the first server served after %s", len(got), len(after), during)
	}
}

// checkKeptCursor checks that a cursor kept from the first server continues
// on the restored one with want.
func checkKeptCursor(t *testing.T, c *client.Client, feature events.Feature, kept string, want []string) {
	t.Helper()
	cont := pageAll(t, c, feature, client.FromCursor(kept))
	if !slices.Equal(cont, want) {
		t.Errorf("the kept cursor continued on the restored server with %d events, want the %d after the first page", len(cont), len(want))
	}
}

// TestBackupRefuses: an existing --to without --force, a PostgreSQL --db,
// a missing --to and a data directory without a database are refused with
// the flag and the reason, and leave the file as it was; --force replaces.
func TestBackupRefuses(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(data, dbFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	dir := t.TempDir()
	to := filepath.Join(dir, "copy.db")
	if err := os.WriteFile(to, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := Main(ctx, append([]string{"backup"}, args...), Env{Getenv: func(string) string { return "" }, Stdout: &out})
		return out.String(), err
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", data, "--to", to}, "--to: " + to + " exists; --force replaces it"},
		{[]string{"--data", data, "--to", to, "--db", "postgres://u:secret@db/logbook"}, "pg_dump"},
		{[]string{"--data", data}, "--to: a file name is required"},
		{[]string{"--data", t.TempDir(), "--to", filepath.Join(dir, "other.db")}, "--data: no database at"},
		{[]string{"--data", data, "--to", filepath.Join(dir, "nodir", "x.db")}, "--to: directory"},
		{[]string{"--data", data, "--to", filepath.Join(data, dbFile), "--force"}, "is the database itself"},
	} {
		_, err := run(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("backup %v: err %v, want one containing %q", c.args, err, c.want)
		}
		if b, _ := os.ReadFile(to); string(b) != "keep me" {
			t.Fatalf("backup %v changed --to", c.args)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "other.db")); err == nil {
		t.Error("a refused backup wrote its --to")
	}
	out, err := run("--data", data, "--to", to, "--force")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(to); !bytes.HasPrefix(b, []byte("SQLite format 3\x00")) {
		t.Errorf("--force did not replace --to with a database; output %q", out)
	}
	if !strings.Contains(out, "0 events in 0 streams") {
		t.Errorf("output for an empty database: %q", out)
	}
}
