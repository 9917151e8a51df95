package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/testenv"
)

// serveUntil runs `logbook serve args...` in-process until a line of its
// standard error matches until, and returns everything it wrote up to
// there and a stop that cancels it like SIGTERM. The server goes on
// running (its later output is discarded) until stop.
func serveUntil(t *testing.T, until *regexp.Regexp, args ...string) (out string, stop func() error) {
	t.Helper()
	p := serveInProcess(args...)
	var b strings.Builder
	sc := bufio.NewScanner(p.stderr)
	found := false
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
		if until.MatchString(sc.Text()) {
			found = true
			break
		}
	}
	if !found {
		p.cancel()
		t.Fatalf("serve stopped before printing a line matching %q:\n%s\n(err %v)", until, b.String(), <-p.done)
	}
	go func() { _, _ = io.Copy(io.Discard, p.stderr) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		return p.stop(t)
	}
	t.Cleanup(func() { _ = stop() })
	return b.String(), stop
}

// retentionBackends are the stores the retention tests run on: SQLite in
// the test's data directory, and PostgreSQL (a fresh schema) when
// LOGBOOK_TEST_POSTGRES_URL is set.
var retentionBackends = []retentionBackend{
	{"sqlite", func(*testing.T) []string { return nil }},
	{"postgres", func(t *testing.T) []string { return []string{"--db", testenv.PostgresSchema(t)} }},
}

type retentionBackend struct {
	name string
	db   func(t *testing.T) []string
}

// serveOverOldHistory loads old history (loadOldHistory) into a new data
// directory on backend b, then runs serve over it, with extra flags, until
// its output matches until. It returns the directory, the store flags,
// what each stream held before serve, and serveUntil's output and stop.
func serveOverOldHistory(t *testing.T, b retentionBackend, until *regexp.Regexp, extra ...string) (data string, db []string, before map[events.Feature]int64, out string, stop func() error) {
	t.Helper()
	data = t.TempDir()
	db = b.db(t)
	before = loadOldHistory(t, data, db)
	args := append([]string{"--data", data, "--listen", "127.0.0.1:0", "--no-demo"}, extra...)
	out, stop = serveUntil(t, until, append(args, db...)...)
	return data, db, before, out, stop
}

// storedPerStream counts the events of account Old in each stream of the
// store the flags select.
func storedPerStream(t *testing.T, data string, db []string) map[events.Feature]int64 {
	t.Helper()
	sf := storeFlags{data: data}
	if len(db) == 2 {
		sf.db = db[1]
	}
	st, err := sf.open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.AccountByName(t.Context(), "Old")
	if err != nil {
		t.Fatal(err)
	}
	got := map[events.Feature]int64{}
	for _, f := range events.AllFeatures {
		cs, err := st.CountEvents(t.Context(), a.UUID, f, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			got[f] += c.N
		}
	}
	return got
}

// loadOldHistory simulates two days of events 200 days ago into account
// Old, as a user loading last year's history does, and returns how many
// each stream holds.
func loadOldHistory(t *testing.T, data string, db []string) map[events.Feature]int64 {
	t.Helper()
	start := time.Now().Add(-200 * 24 * time.Hour).UTC().Truncate(time.Hour).Format(time.RFC3339)
	args := append([]string{"simulate", "--data", data, "--account", "Old", "--seed", "3", "--start", start, "--backfill", "2d"}, db...)
	if err := Main(t.Context(), args, Env{}); err != nil {
		t.Fatal(err)
	}
	before := storedPerStream(t, data, db)
	for _, f := range events.AllFeatures {
		if before[f] == 0 {
			t.Fatalf("the simulation stored no %s", f)
		}
	}
	return before
}

// TestServeKeepsOldEvents: a server started over events older than its
// serving window deletes none of them (13.1); it says they are kept but
// not served.
func TestServeKeepsOldEvents(t *testing.T) {
	for _, b := range retentionBackends {
		t.Run(b.name, func(t *testing.T) {
			// The line serve logs once it has looked at old events, at
			// start; the old hourly pass logged "retention dropped".
			data, db, before, out, stop := serveOverOldHistory(t, b, regexp.MustCompile(`serving window are kept|retention dropped`))
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			var n int64
			for _, v := range before {
				n += v
			}
			if want := "events=" + itoa(n) + " serve_window=120d"; !strings.Contains(out, want) {
				t.Errorf("serve output lacks %q:\n%s", want, out)
			}
			if after := storedPerStream(t, data, db); !equalCounts(after, before) {
				t.Errorf("events after serve = %v, want %v (nothing deleted)", after, before)
			}
		})
	}
}

// TestServeDeleteAfter: with --delete-after the server deletes older
// events at start and logs, at warn, how many per account and stream.
func TestServeDeleteAfter(t *testing.T) {
	for _, b := range retentionBackends {
		t.Run(b.name, func(t *testing.T) {
			data, db, before, out, stop := serveOverOldHistory(t, b, regexp.MustCompile(`deletion pass done`), "--delete-after", "150d")
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			for _, f := range events.AllFeatures {
				re := regexp.MustCompile(`level=WARN msg="deleted events older than --delete-after" account=Old account_uuid=\S+ feature=` +
					string(f) + ` events=` + itoa(before[f]) + ` `)
				if !re.MatchString(out) {
					t.Errorf("serve output lacks a warn line for %d %s (%s):\n%s", before[f], f, re, out)
				}
			}
			if after := storedPerStream(t, data, db); !equalCounts(after, map[events.Feature]int64{}) {
				t.Errorf("events after --delete-after 150d = %v, want none", after)
			}
		})
	}
}

// TestServeRetentionFlags: --retention is the deprecated name of the
// serving window; mistakes are usage errors.
func TestServeRetentionFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--serve-window", "1m"},
		{"--serve-window", "soon"},
		{"--delete-after", "30m"},
		{"--delete-after", "-3d"},
		{"--serve-window", "100d", "--retention", "200d"},
	} {
		err := Main(context.Background(), append([]string{"serve", "--data", t.TempDir()}, args...), Env{})
		if _, ok := err.(*UsageError); !ok {
			t.Errorf("serve %v: error %v, want a usage error", args, err)
		}
	}
	var f retentionFlags
	fs := newFlagSet(Env{Stderr: io.Discard}, "serve", "")
	f.register(fs)
	var stderr strings.Builder
	if err := parseFlags(fs, Env{}, []string{"--retention", "400d"}, false); err != nil {
		t.Fatal(err)
	}
	window, del, err := f.resolve(Env{Stderr: &stderr})
	if err != nil || window != 400*24*time.Hour || del != 0 {
		t.Errorf("--retention 400d: window %v, delete after %v, err %v; want 400d, off", window, del, err)
	}
	if !strings.Contains(stderr.String(), "deprecated; it sets the serving window only (--serve-window 400d) and deletes nothing") {
		t.Errorf("--retention warning = %q", stderr.String())
	}
}

func equalCounts(a, b map[events.Feature]int64) bool {
	for _, f := range events.AllFeatures {
		if a[f] != b[f] {
			return false
		}
	}
	return true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestAccountServeWindow: "account serve-window" sets an account's serving
// window (a span, forever, or back to the server's), and refuses what is
// not one.
func TestAccountServeWindow(t *testing.T) {
	data := t.TempDir()
	run := func(args ...string) (string, error) {
		var out strings.Builder
		err := Main(t.Context(), append(append([]string{}, args...), "--data", data), Env{Stdout: &out, Stderr: io.Discard})
		return out.String(), err
	}
	if _, err := run("account", "create", "--name", "Mirror", "--owner-email", "ops@example.com"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ window, want string }{
		{"400d", "now serves events back 400d"},
		{"forever", "now serves events back forever"},
		{"default", "now serves events back as far as the server's --serve-window"},
	} {
		out, err := run("account", "serve-window", "--account", "Mirror", "--window", tt.window)
		if err != nil || !strings.Contains(out, tt.want) {
			t.Errorf("serve-window %s: %q, %v; want %q", tt.window, out, err, tt.want)
		}
	}
	out, err := run("account", "serve-window", "--account", "Mirror", "--window", "forever", "--json")
	if err != nil || !strings.Contains(out, `"serve_window": "forever"`) {
		t.Errorf("serve-window --json: %s, %v", out, err)
	}
	for _, bad := range [][]string{
		{"--account", "Mirror", "--window", "10m"},
		{"--account", "Mirror", "--window", "soon"},
		{"--account", "Mirror"},
		{"--window", "400d"},
		{"--account", "Nobody", "--window", "400d"},
	} {
		if _, err := run(append([]string{"account", "serve-window"}, bad...)...); err == nil {
			t.Errorf("serve-window %v: no error", bad)
		}
	}
}

// TestUnservedPerAccount: the events serve reports as not served are those
// older than their account's window: its own, or the server's when it has
// none; an account that serves forever has none.
func TestUnservedPerAccount(t *testing.T) {
	ctx := t.Context()
	st := sqlitetest.New(t)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i, w := range []time.Duration{0, store.ServeForever, 400 * 24 * time.Hour} {
		a := store.Account{UUID: events.NewID(), Name: fmt.Sprint("A", i), CreatedAt: now, ServeWindow: w}
		if err := st.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		wr := ingest.NewWriter(st, a.UUID, 0)
		ev := &events.AuditEvent{UUID: events.NewID(), Timestamp: now.Add(-200 * 24 * time.Hour), ActorUUID: events.NewID(), Action: "join", ObjectType: "user"}
		if err := wr.Add(ctx, ev); err != nil {
			t.Fatal(err)
		}
		if err := wr.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.UUID)
	}
	got, err := unserved(ctx, st, now, 120*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Account != ids[0] || got[0].N != 1 {
		t.Errorf("unserved = %+v, want the one event of the account on the server's window", got)
	}
}
