package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
)

// TestVerifyCommand: verify passes a stream as appended, and names the
// position of an event changed in the database file, with exit status 1.
func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, dbFile)
	db := sqlitetest.Open(t, path)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var rs []store.Record
	for i := range 5 {
		id := fmt.Sprintf("EVENT%d", i)
		rs = append(rs, store.Record{UUID: id, Time: t0.Add(time.Duration(i) * time.Second), Label: "x",
			V2: fmt.Appendf(nil, `{"uuid":%q,"n":%d}`, id, i)})
	}
	if _, err := db.AppendEvents(t.Context(), "ACCT", events.AuditEvents, rs); err != nil {
		t.Fatal(err)
	}
	db.Close()

	out, errOut, code := runMain([]string{"verify", "--data", dir}, nil)
	if code != 0 || !strings.HasPrefix(out, "ok   ACCT auditevents: 5 events") {
		t.Fatalf("verify: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = runMain([]string{"verify", "--data", dir, "--sign"}, nil)
	if code != 0 || !strings.Contains(out, "signed head of size 5") {
		t.Fatalf("verify --sign: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = runMain([]string{"verify", "--data", dir}, nil)
	if code != 0 || !strings.Contains(out, "5 events (0 pruned by retention), root ") || !strings.Contains(out, ", 1 signed heads") {
		t.Fatalf("verify after --sign: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	c, err := sqlite3.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(`UPDATE events_1 SET v2 = '{"uuid":"EVENT2","n":7}' WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	c.Close()
	out, errOut, code = runMain([]string{"verify", "--data", dir, "--stream", "auditevents"}, nil)
	if code != 1 || !strings.Contains(out, "FAIL ACCT auditevents: position 3 (leaf 2): modified") || !strings.Contains(errOut, "1 of 1 streams") {
		t.Fatalf("verify after tampering: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, _, code := runMain([]string{"verify", "--data", dir, "--stream", "nope"}, nil); code == 0 {
		t.Fatal("verify --stream nope: exit 0")
	}
}
