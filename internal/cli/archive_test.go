package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
)

// TestArchiveCommand: archive writes the days that are over, keys
// tree-public exports the key, archive verify passes the archive and
// names a segment changed, with exit status 1.
func TestArchiveCommand(t *testing.T) {
	data, dir := t.TempDir(), t.TempDir()
	db := sqlitetest.Open(t, filepath.Join(data, dbFile))
	day := time.Now().UTC().AddDate(0, 0, -3).Truncate(24 * time.Hour)
	var rs []store.Record
	for i := range 6 {
		id := fmt.Sprintf("EVENT%d", i)
		at := day.Add(time.Duration(i) * 12 * time.Hour)
		rs = append(rs, store.Record{UUID: id, Time: at, Label: "x",
			V2: fmt.Appendf(nil, `{"uuid":%q,"timestamp":%q,"n":%d}`, id, at.Format(time.RFC3339Nano), i)})
	}
	if _, err := db.AppendEvents(t.Context(), "ACCT", events.AuditEvents, rs); err != nil {
		t.Fatal(err)
	}
	db.Close()

	out, errOut, code := runMain([]string{"archive", "--data", data, "--to", dir}, nil)
	first := day.Format(time.DateOnly)
	if code != 0 || !strings.HasPrefix(out, "ACCT "+first+": 2 events\n") || strings.Count(out, "\n") != 3 {
		t.Fatalf("archive: exit %d, stdout %q, stderr %q; want 3 days from %s", code, out, errOut, first)
	}
	keys := filepath.Join(t.TempDir(), "tree.jwks")
	if out, errOut, code := runMain([]string{"keys", "tree-public", "--data", data, "--to", keys}, nil); code != 0 {
		t.Fatalf("keys tree-public: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = runMain([]string{"archive", "verify", dir, "--public-key", keys}, nil)
	if code != 0 || !strings.HasPrefix(out, "ok   ACCT: 3 days, "+first) {
		t.Fatalf("archive verify: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Again: nothing new to write.
	if out, errOut, code := runMain([]string{"archive", "--data", data, "--to", dir}, nil); code != 0 || out != "" {
		t.Fatalf("archive again: exit %d, stdout %q, stderr %q; want nothing written", code, out, errOut)
	}

	seg := filepath.Join(dir, "ACCT", first, "auditevents.ndjson.gz")
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-9] ^= 1 // in the gzip trailer's CRC: the file, not the events, changed
	if err := os.WriteFile(seg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runMain([]string{"archive", "verify", "--public-key", keys, dir}, nil)
	if code != 1 || !strings.Contains(out, "FAIL ACCT "+first+" auditevents: segment modified: ") || !strings.Contains(errOut, "1 of 1 accounts") {
		t.Fatalf("archive verify after editing: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, _, code := runMain([]string{"archive", "verify", dir}, nil); code != 2 {
		t.Errorf("archive verify without --public-key: exit %d, want 2", code)
	}
}
