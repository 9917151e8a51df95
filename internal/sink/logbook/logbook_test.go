package logbook_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/servertest"
	"github.com/logbookhq/logbook/internal/sink/logbook"
	"github.com/logbookhq/logbook/internal/sink/sinktest"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
)

var harness = sinktest.Harness{New: logbook.New, Type: "logbook", Name: "mirror", Env: map[string]string{"KEY": "lbi_secret-key-value"}}

var open = sinktest.Opener[*logbook.Sink](harness)

func TestNewRefuses(t *testing.T) {
	harness.RefusedAll(t, []sinktest.Refusal{
		{Name: "none", Doc: "", Want: []string{"data, db, url: exactly one is required"}},
		{Name: "two", Doc: "data: d\nurl: http://x", Want: []string{"data, db, url: exactly one is required"}},
		{Name: "db-not-postgres", Doc: "db: mysql://x", Want: []string{"db: must be a postgres:// URL"}},
		{Name: "url-bad", Doc: "url: ftp://x\nkey_env: KEY", Want: []string{"url: must be an http or https URL"}},
		{Name: "url-no-key", Doc: "url: http://x", Want: []string{"key"}},
		{Name: "url-account", Doc: "url: http://x\nkey_env: KEY\naccount: A", Want: []string{"account: only for a local store"}},
		{Name: "key-without-url", Doc: "data: d\nkey_env: KEY", Want: []string{"key_file, key_env: only with url"}},
		{Name: "unknown", Doc: "data: d\npath: x", Want: []string{"path"}},
	})
}

// sampleAccount is the account_uuid of the sample audit events.
const sampleAccount = "KHUVUCTBHVDSNDHXKDGM7UESYU"

// batch is the sample audit events as a source of account acct serves them.
func batch(t *testing.T, acct string) forward.Batch {
	b := sinktest.AuditBatch(t)
	b.Account = acct
	return b
}

// stored returns the v2 bytes of the stream (acct, f) of st, in order.
func stored(t *testing.T, st store.EventStore, acct string, f events.Feature) []string {
	t.Helper()
	res, err := st.ListEvents(context.Background(), store.ListQuery{Account: acct, Feature: f, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res.Rows {
		out = append(out, string(r.Data))
	}
	return out
}

func same(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d events stored, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("event %d stored as\n%s\nwant\n%s", i, got[i], want[i])
		}
	}
}

// TestLocal: a batch lands byte for byte, in order, in the source's
// account (created, named after the source); the same batch again is
// absorbed and counted as duplicates.
func TestLocal(t *testing.T) {
	dir := t.TempDir()
	acct := events.NewID()
	s := open(t, "data: "+dir)
	b := batch(t, acct)
	sinktest.Write(t, s, b)
	sinktest.Write(t, s, b)
	if got := s.Duplicates(); got != int64(len(b.Events)) {
		t.Errorf("Duplicates = %d, want %d", got, len(b.Events))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st := sqlitetest.Open(t, filepath.Join(dir, logbook.DBFile))
	a, err := st.Account(t.Context(), acct)
	if err != nil || a.Name != "Mirror of demo" {
		t.Fatalf("account = %+v, %v; want one named after the source", a, err)
	}
	same(t, stored(t, st, acct, events.AuditEvents), sinktest.Data(b))
}

// TestLocalNamedAccount: account: names the account the sink creates.
func TestLocalNamedAccount(t *testing.T) {
	dir := t.TempDir()
	acct := events.NewID()
	s := open(t, "data: "+dir+"\naccount: Acme archive")
	sinktest.Write(t, s, batch(t, acct))
	s.Close()
	st := sqlitetest.Open(t, filepath.Join(dir, logbook.DBFile))
	if a, err := st.Account(t.Context(), acct); err != nil || a.Name != "Acme archive" {
		t.Fatalf("account = %+v, %v", a, err)
	}
}

// TestLocalRejects: an event that is not one of the batch's feature, and
// one whose uuid the stream holds as another event, go to the dead
// letters; the rest is stored. A batch without the source's account is
// refused whole.
func TestLocalRejects(t *testing.T) {
	dir := t.TempDir()
	acct := events.NewID()
	s := open(t, "data: "+dir)
	b := batch(t, acct)
	first := b
	first.Events = b.Events[:1]
	sinktest.Write(t, s, first)

	// Event 1 reuses event 0's uuid with another timestamp; event 2 is not
	// an audit event.
	var ev map[string]any
	if err := json.Unmarshal(b.Events[0].Data, &ev); err != nil {
		t.Fatal(err)
	}
	ev["timestamp"] = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	conflict, _ := json.Marshal(ev)
	next := forward.Batch{Source: b.Source, Account: acct, Feature: b.Feature, Events: []forward.Event{
		b.Events[1],
		{UUID: b.Events[0].UUID, Data: conflict},
		{UUID: "X", Data: []byte(`{"uuid":"X","nonsense":true}`)},
		b.Events[2],
	}}
	rej := sinktest.Rejected(t, s.Write(t.Context(), next))
	if len(rej) != 2 || rej[0].Index != 1 || !strings.Contains(rej[0].Reason, "uuid") || rej[1].Index != 2 {
		t.Fatalf("rejected %+v, want events 1 (uuid) and 2", rej)
	}
	noAccount := b
	noAccount.Account = ""
	if rej := sinktest.Rejected(t, s.Write(t.Context(), noAccount)); len(rej) != len(b.Events) || !strings.Contains(rej[0].Reason, "account") {
		t.Fatalf("without an account: rejected %+v", rej)
	}
	s.Close()
	st := sqlitetest.Open(t, filepath.Join(dir, logbook.DBFile))
	same(t, stored(t, st, acct, events.AuditEvents), sinktest.Data(forward.Batch{Events: b.Events[:3]}))
}

// TestLocalUnchecked: an event ingestion's checks refuse (here an id
// that is not base32, as a source may serve a value Logbook does not
// know) is mirrored all the same, byte for byte; its v1 rendering is
// Logbook's.
func TestLocalUnchecked(t *testing.T) {
	dir := t.TempDir()
	acct := events.NewID()
	s := open(t, "data: "+dir)
	raw := `{"uuid":"ODD","timestamp":"2026-01-02T03:04:05Z","actor_uuid":"not-an-id","action":"newaction","object_type":"newtype","account_uuid":"` + acct + `","new_field":1}`
	b := forward.Batch{Source: "demo", Account: acct, Feature: events.AuditEvents, Events: []forward.Event{{UUID: "ODD", Data: []byte(raw)}}}
	sinktest.Write(t, s, b)
	s.Close()
	st := sqlitetest.Open(t, filepath.Join(dir, logbook.DBFile))
	same(t, stored(t, st, acct, events.AuditEvents), []string{raw})
	res, err := st.ListEvents(t.Context(), store.ListQuery{Account: acct, Feature: events.AuditEvents, Limit: 10, V1: true})
	if err != nil || len(res.Rows) != 1 {
		t.Fatalf("v1 rows %v, %v", res.Rows, err)
	}
	if v1 := string(res.Rows[0].Data); strings.Contains(v1, "account_uuid") || strings.Contains(v1, "new_field") || !strings.Contains(v1, `"action":"newaction"`) {
		t.Errorf("v1 rendering %s, want Logbook's v1 of the event", v1)
	}
}

// TestRemote: through a Logbook's ingestion API, into the key's account;
// the same batch again is counted as duplicates; an event the remote
// refuses is rejected and the rest stored.
func TestRemote(t *testing.T) {
	// A mirror's account has the source's uuid, which the sample events
	// name (the ingestion API would rewrite them to another account's).
	acct := sampleAccount
	srv := servertest.Start(t, servertest.Options{Account: acct})
	key, _, err := ingest.CreateKey(t.Context(), srv.Store, acct, "mirror", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h := harness
	h.Env = map[string]string{"MIRROR_KEY": key}
	s := sinktest.Opener[*logbook.Sink](h)(t, "url: "+srv.URL+"\nkey_env: MIRROR_KEY")
	b := batch(t, acct)
	sinktest.Write(t, s, b)
	sinktest.Write(t, s, b)
	if got := s.Duplicates(); got != int64(len(b.Events)) {
		t.Errorf("Duplicates = %d, want %d", got, len(b.Events))
	}
	more := forward.Batch{Source: b.Source, Account: acct, Feature: b.Feature, Events: []forward.Event{
		{UUID: "X", Data: []byte(`{"uuid":"X","nonsense":true}`)},
	}}
	if rej := sinktest.Rejected(t, s.Write(t.Context(), more)); len(rej) != 1 || rej[0].Index != 0 {
		t.Fatalf("rejected %+v", rej)
	}
	same(t, stored(t, srv.Store, acct, events.AuditEvents), sinktest.Data(b))

	bad := sinktest.Opener[*logbook.Sink](harness)(t, "url: "+srv.URL+"\nkey_env: KEY")
	sinktest.Temporary(t, bad.Write(t.Context(), b), "401")
}
