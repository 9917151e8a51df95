package forward

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
)

// TestSpoolRoundTrip: a batch comes back from the spool as it went in,
// bytes included.
func TestSpoolRoundTrip(t *testing.T) {
	sp, err := openSpool(filepath.Join(t.TempDir(), "spool"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	in := Batch{Source: "demo", Feature: events.SignInAttempts, Events: []Event{
		{UUID: "A", Time: ts, Data: json.RawMessage(`{"uuid":"A","x":"line\nbreak"}`)},
		{Time: ts, Data: json.RawMessage(`{"no":"uuid"}`)},
	}}
	ok, err := sp.tryPut(in)
	if err != nil || !ok {
		t.Fatalf("tryPut = %v, %v", ok, err)
	}
	// A new spool on the same directory (a restart) finds it.
	sp2, err := openSpool(sp.dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	got, name, err := sp2.head()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("spooled batch (-want +got):\n%s", diff)
	}
	if err := sp2.remove(name); err != nil {
		t.Fatal(err)
	}
	if !sp2.empty() {
		t.Error("spool not empty after remove")
	}
	if ok, _ := sp2.tryPut(Batch{Events: []Event{{Data: make(json.RawMessage, 2<<20)}}}); ok {
		t.Error("a batch larger than the spool was accepted")
	}
}

// TestDeadLettersCutTornLine: a partial line left by a crash is cut
// before new dead letters are appended, so every line stays JSON.
func TestDeadLettersCutTornLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "archive.ndjson")
	if err := os.WriteFile(path, []byte(`{"uuid":"OLD","reason":"r"}`+"\n"+`{"uuid":"TORN","rea`), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &deadLetters{dir: dir}
	b := Batch{Source: "demo", Feature: events.AuditEvents, Events: []Event{{UUID: "NEW", Data: json.RawMessage(`{"uuid":"NEW"}`)}}}
	if err := d.write("archive", b, []Rejection{{Index: 0, Reason: "HTTP 400: bad"}}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var uuids []string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var l struct{ UUID, Reason string }
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		uuids = append(uuids, l.UUID)
	}
	if diff := cmp.Diff([]string{"OLD", "NEW"}, uuids); diff != "" {
		t.Errorf("dead letters (-want +got):\n%s", diff)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("dead letters mode %v, want 0600", info.Mode().Perm())
	}
}

// TestSpoolAccount: a batch's source account survives the spool (header
// version 2); a batch without one keeps the version 1 header.
func TestSpoolAccount(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, acct := range []string{"KHUVUCTBHVDSNDHXKDGM7UESYU", ""} {
		in := Batch{Source: "demo", Account: acct, Feature: events.AuditEvents, Events: []Event{{UUID: "A", Time: ts, Data: json.RawMessage(`{"uuid":"A"}`)}}}
		data := encodeSpool(in)
		if want := map[bool]string{true: "logbook-spool 2 ", false: "logbook-spool 1 "}[acct != ""]; !strings.HasPrefix(string(data), want) {
			t.Errorf("spool header %q, want %q…", data, want)
		}
		got, err := decodeSpool(data)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(in, got); diff != "" {
			t.Errorf("spooled batch (-want +got):\n%s", diff)
		}
	}
}

// TestDecodeSpoolErrors: a damaged spool file is refused with what is
// wrong in it.
func TestDecodeSpoolErrors(t *testing.T) {
	tests := []struct{ data, want string }{
		{"", "no header"},
		{"logbook-spool 1 demo auditevents\n", "header: newline in input does not match format"},
		{"logbook-spool 1 demo auditevents 2\n", "truncated"},
		{"logbook-spool 1 demo auditevents 1\nA 2026-01-02T03:04:05Z\n", "event header: newline in input does not match format"},
		{"logbook-spool 1 demo auditevents 1\nA yesterday 2\n{}\n", `event time: parsing time "yesterday"`},
		{"logbook-spool 1 demo auditevents 1\nA 2026-01-02T03:04:05Z 20\n{}\n", "truncated"},
	}
	for _, tt := range tests {
		if _, err := decodeSpool([]byte(tt.data)); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("decodeSpool(%q) = %v, want %q", tt.data, err, tt.want)
		}
	}
}
