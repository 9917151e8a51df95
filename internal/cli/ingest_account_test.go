package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
)

// TestIngestIntoAnotherAccount walks the user's path of issue 13.2: a
// simulator file made for one account, loaded into another with
// ingest --account, is stored naming the account it is loaded into; then
// a line changed to another timestamp under a uuid already stored stops
// the run with its file, line and uuid.
func TestIngestIntoAnotherAccount(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	run := func(args ...string) (string, error) {
		t.Helper()
		return runWithData(t, data, args...)
	}
	for _, a := range []string{"Demo", "Other"} {
		if out, err := run("account", "create", "--name", a, "--owner-email", "owner@"+strings.ToLower(a)+".test"); err != nil {
			t.Fatalf("account create %s: %v\n%s", a, err, out)
		}
	}
	file := filepath.Join(dir, "other.ndjson")
	if out, err := run("simulate", "--account", "Other", "--seed", "4", "--start", "2025-05-05T00:00:00Z", "--backfill", "1d", "--users", "10", "--out", file); err != nil {
		t.Fatalf("simulate: %v\n%s", err, out)
	}
	if out, err := run("ingest", "--account", "Demo", file); err != nil {
		t.Fatalf("ingest: %v\n%s", err, out)
	}

	st, err := sqlite.Open(context.Background(), filepath.Join(data, "logbook.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	accts, err := st.Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, a := range accts {
		ids[a.Name] = a.UUID
	}
	n := 0
	for _, f := range events.AllFeatures {
		res, err := st.ListEvents(context.Background(), store.ListQuery{Account: ids["Demo"], Feature: f, Limit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Rows {
			n++
			if strings.Contains(string(r.Data), ids["Other"]) {
				t.Fatalf("%s event stored in Demo names Other's uuid %s: %s", f, ids["Other"], r.Data)
			}
			var ev struct {
				AccountUUID string `json:"account_uuid"`
			}
			_ = json.Unmarshal(r.Data, &ev)
			if ev.AccountUUID != "" && ev.AccountUUID != ids["Demo"] {
				t.Fatalf("%s event stored in Demo has account_uuid %s: %s", f, ev.AccountUUID, r.Data)
			}
		}
	}
	st.Close()
	if n == 0 {
		t.Fatal("nothing stored in Demo")
	}
	if out, err := run("ingest", "--account", "Demo", file); err != nil || !strings.Contains(out, ": 0 new events") {
		t.Errorf("second load: %v\n%s, want only duplicates", err, out)
	}

	// The third line moved a month later: the uuid is held as another event.
	b, _ := os.ReadFile(file)
	lines := strings.SplitN(string(b), "\n", 4)
	var env struct {
		Event map[string]any `json:"event"`
	}
	_ = json.Unmarshal([]byte(lines[2]), &env)
	id := env.Event["uuid"].(string)
	ts := env.Event["timestamp"].(string)
	moved := strings.Replace(ts, "2025-05-0", "2025-06-0", 1)
	lines[2] = strings.Replace(lines[2], ts, moved, 1)
	changed := filepath.Join(dir, "changed.ndjson")
	_ = os.WriteFile(changed, []byte(strings.Join(lines, "\n")), 0o600)
	_, err = run("ingest", "--account", "Demo", changed)
	if err == nil || !strings.Contains(err.Error(), "changed.ndjson: line 3: uuid: "+id+" is already stored as another event") {
		t.Errorf("changed event: %v, want line 3 naming uuid %s", err, id)
	}
}
