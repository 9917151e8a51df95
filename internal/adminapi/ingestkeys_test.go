package adminapi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/roundtrip"
	"github.com/logbookhq/logbook/internal/store"
)

// ingestOne posts one audit event to the ingestion API with key and
// returns the status.
func (b *testBundle) ingestOne(t *testing.T, key string) int {
	t.Helper()
	w, err := events.Encode(&events.AuditEvent{UUID: events.NewID(), Timestamp: b.clock.Now().Add(-time.Hour),
		ActorUUID: events.NewID(), Action: "create", ObjectType: "vault", ObjectUUID: events.Str(events.NewID()),
		Session:   &events.Session{UUID: events.NewID(), LoginTime: b.clock.Now().Add(-2 * time.Hour), DeviceUUID: events.NewLowerID(), IP: "192.0.2.1"},
		ActorType: "user", AccountUUID: b.acme.UUID})
	if err != nil {
		t.Fatal(err)
	}
	status, _ := roundtrip.Call(t, "POST", b.url+"/api/v2/ingest/auditevents", key, string(w.V2))
	return status
}

// TestIngestKeys: an owner makes an ingest key, it ingests, the list shows
// its last use (written at most once a minute), another account cannot
// touch it, members may not manage keys, and once revoked (by its listed
// prefix) its next request gets 401. Create and revoke are audited.
func TestIngestKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var k admin.NewIngestKey
	b.mustCall(t, b.administrator, "POST", "/ingest-keys", map[string]any{"name": "pipeline"}, 201, &k)
	if !strings.HasPrefix(k.Secret, "lbi_") || !strings.HasPrefix(k.Secret, k.Prefix) || k.Prefix != "lbi_"+k.ID || k.Status != admin.StatusActive {
		t.Fatalf("created key = %+v, want an active lbi_ key beginning with its prefix", k)
	}
	list := func() []admin.IngestKey {
		t.Helper()
		var l struct{ Items []admin.IngestKey }
		b.mustCall(t, b.owner, "GET", "/ingest-keys", nil, 200, &l)
		return l.Items
	}
	if l := list(); len(l) != 1 || !l[0].LastUsedAt.IsZero() || strings.Contains(mustJSON(t, l), k.Secret) {
		t.Fatalf("list before use = %+v, want the key, never used, without its secret", l)
	}

	first := b.clock.Now()
	if got := b.ingestOne(t, k.Secret); got != 200 {
		t.Fatalf("ingest with the new key = %d, want 200", got)
	}
	b.clock.Advance(30 * time.Second)
	if got := b.ingestOne(t, k.Secret); got != 200 {
		t.Fatalf("second ingest = %d, want 200", got)
	}
	if l := list(); len(l) != 1 || !l[0].LastUsedAt.Equal(first) {
		t.Errorf("last use after uses 30 s apart = %v, want the first, %v (written at most once a minute)", l[0].LastUsedAt, first)
	}
	b.clock.Advance(31 * time.Second)
	if got := b.ingestOne(t, k.Secret); got != 200 {
		t.Fatalf("third ingest = %d, want 200", got)
	}
	if l := list(); !l[0].LastUsedAt.Equal(b.clock.Now()) {
		t.Errorf("last use a minute later = %v, want %v", l[0].LastUsedAt, b.clock.Now())
	}

	b.mustCall(t, b.member, "GET", "/ingest-keys", nil, 403, nil)
	b.mustCall(t, b.member, "POST", "/ingest-keys", map[string]any{"name": "mine"}, 403, nil)
	b.mustCall(t, b.member, "POST", "/ingest-keys/"+k.ID+"/revoke", nil, 403, nil)
	b.mustCall(t, b.other, "POST", "/ingest-keys/"+k.ID+"/revoke", nil, 404, nil)
	if got := b.ingestOne(t, k.Secret); got != 200 {
		t.Fatalf("ingest after refused revocations = %d, want 200", got)
	}

	var revoked admin.IngestKey
	b.mustCall(t, b.owner, "POST", "/ingest-keys/"+k.Prefix+"/revoke", nil, 200, &revoked)
	if revoked.Status != admin.StatusRevoked || revoked.RevokedAt.IsZero() {
		t.Errorf("revoked key = %+v, want status revoked with a time", revoked)
	}
	if got := b.ingestOne(t, k.Secret); got != 401 {
		t.Errorf("ingest right after revocation = %d, want 401", got)
	}
	if l := list(); len(l) != 1 || l[0].Status != admin.StatusRevoked {
		t.Errorf("list after revocation = %+v, want the key, revoked", l)
	}
	// Revoking again changes nothing and records nothing.
	b.mustCall(t, b.owner, "POST", "/ingest-keys/pipeline/revoke", nil, 200, nil)

	var trail []string
	res, err := b.st.ListEvents(t.Context(), store.ListQuery{Account: b.acme.UUID, Feature: events.AuditEvents, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rows {
		var ev events.AuditEvent
		if err := json.Unmarshal(r.Data, &ev); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(ev.AuxInfo, "ingest key: ") {
			trail = append(trail, ev.Action+"/"+ev.ObjectType+" "+*ev.ObjectUUID+" "+ev.AuxInfo+" by "+ev.ActorDetails.Email)
		}
	}
	id := strings.ToUpper(k.ID)
	want := []string{"create/satoken " + id + " ingest key: pipeline by admin@acme.test", "trevoke/satoken " + id + " ingest key: pipeline by owner@acme.test"}
	if strings.Join(trail, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit trail of the key:\n%s\nwant:\n%s", strings.Join(trail, "\n"), strings.Join(want, "\n"))
	}
}

func TestIngestKeyRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"no name", "POST", "/ingest-keys", map[string]any{}, 400, "name"},
		{"blank name", "POST", "/ingest-keys", map[string]any{"name": "  "}, 400, "name"},
		{"long name", "POST", "/ingest-keys", map[string]any{"name": strings.Repeat("n", 101)}, 400, "name"},
		{"unknown field", "POST", "/ingest-keys", map[string]any{"name": "x", "features": []string{}}, 400, "features"},
		{"unknown key", "POST", "/ingest-keys/nope/revoke", nil, 404, "key"},
		{"unknown prefix", "POST", "/ingest-keys/lbi_" + strings.Repeat("a", 26) + "/revoke", nil, 404, "key"},
		{"an admin key's id", "POST", "/ingest-keys/" + b.owner[4:30] + "/revoke", nil, 404, "key"},
		// A whole key is a secret that proxies and logs would keep.
		{"a whole key in the URL", "POST", "/ingest-keys/lbi_" + strings.Repeat("a", 26) + strings.Repeat("s", 43) + "/revoke", nil, 400, "key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, raw := b.call(t, b.owner, tt.method, tt.path, tt.body, nil)
			var e struct{ Error struct{ Field string } }
			_ = json.Unmarshal(raw, &e)
			if got != tt.status || e.Error.Field != tt.field {
				t.Errorf("%s %s = %d %s, want %d naming %q", tt.method, tt.path, got, raw, tt.status, tt.field)
			}
		})
	}
	var l struct{ Items []admin.IngestKey }
	b.mustCall(t, b.owner, "GET", "/ingest-keys", nil, 200, &l)
	if len(l.Items) != 0 {
		t.Errorf("keys after refusals = %+v, want none", l.Items)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
