package cli

import (
	"net/http"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/roundtrip"
)

// postIngest posts one audit event to the ingestion API at baseURL with
// key and returns the status.
func postIngest(t *testing.T, baseURL, key, account string) int {
	t.Helper()
	w, err := events.Encode(&events.AuditEvent{UUID: events.NewID(), Timestamp: time.Now().Add(-time.Minute).UTC(),
		ActorUUID: events.NewID(), Action: "create", ObjectType: "vault", ObjectUUID: events.Str(events.NewID()),
		Session:   &events.Session{UUID: events.NewID(), LoginTime: time.Now().Add(-time.Hour).UTC(), DeviceUUID: events.NewLowerID(), IP: "192.0.2.1"},
		ActorType: "user", AccountUUID: account})
	if err != nil {
		t.Fatal(err)
	}
	status, _ := roundtrip.Call(t, "POST", baseURL+"/api/v2/ingest/auditevents", key, string(w.V2))
	return status
}

// TestIngestKeyRevocationAcrossServers: an ingest key made and revoked
// through server A stops working on server B, which shares A's
// PostgreSQL, on B's very next request; B records its last use for A's
// list.
func TestIngestKeyRevocationAcrossServers(t *testing.T) {
	m := startMulti(t)
	ctx := t.Context()
	account := m.actor.Account.UUID
	k, err := m.a.Admin.CreateIngestKey(ctx, m.actor, "pipeline")
	if err != nil {
		t.Fatalf("create ingest key through A: %v", err)
	}
	if got := postIngest(t, m.urlB, k.Secret, account); got != http.StatusOK {
		t.Fatalf("ingest on B with a key made through A = %d, want 200", got)
	}
	ks, err := m.a.Admin.IngestKeys(ctx, m.actor)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 1 || ks[0].ID != k.ID || ks[0].LastUsedAt.IsZero() {
		t.Errorf("keys listed through A = %+v, want the key with B's use recorded", ks)
	}
	if _, err := m.a.Admin.RevokeIngestKey(ctx, m.actor, k.ID); err != nil {
		t.Fatalf("revoke through A: %v", err)
	}
	if got := postIngest(t, m.urlB, k.Secret, account); got != http.StatusUnauthorized {
		t.Errorf("ingest on B right after revocation through A = %d, want 401", got)
	}
	if got := postIngest(t, m.urlA, k.Secret, account); got != http.StatusUnauthorized {
		t.Errorf("ingest on A after revocation = %d, want 401", got)
	}
}
