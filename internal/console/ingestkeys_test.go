package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/logbookhq/logbook/internal/apikey"
)

// TestIngestKeysPage: the page lists the account's ingest keys (never a
// secret), Revoke asks first, the POST needs the session's CSRF token,
// and a key of another account is not found.
func TestIngestKeysPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	owner := actorAs(t, b.adm, "Acme", "")
	k, err := b.adm.CreateIngestKey(ctx, owner, "pipeline")
	if err != nil {
		t.Fatal(err)
	}
	otherOwner := actorAs(t, b.adm, "Other", "")
	ok, err := b.adm.CreateIngestKey(ctx, otherOwner, "theirs")
	if err != nil {
		t.Fatal(err)
	}

	c := b.signedIn(t, "admin@acme.test")
	list := c.get("/console/ingest-keys")
	if list.status != http.StatusOK || !strings.Contains(list.body, "pipeline") || !strings.Contains(list.body, k.Prefix) {
		t.Fatalf("list = %d, want 200 naming the key and its prefix:\n%s", list.status, list.body)
	}
	if strings.Contains(list.body, k.Secret) || strings.Contains(list.body, "theirs") {
		t.Errorf("list shows a secret or another account's key:\n%s", list.body)
	}
	revoke := "/console/ingest-keys/" + k.ID + "/revoke"
	if !strings.Contains(list.body, `href="`+revoke+`"`) {
		t.Errorf("list lacks the Revoke link %s", revoke)
	}
	if r := c.get(revoke); r.status != http.StatusOK || !strings.Contains(r.body, "Revoke Key") {
		t.Fatalf("confirmation = %d", r.status)
	}
	revoked := func(id string) bool {
		t.Helper()
		sk, err := b.st.APIKey(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return !sk.RevokedAt.IsZero()
	}
	if revoked(k.ID) {
		t.Fatal("showing the confirmation revoked the key")
	}
	if r := c.post(revoke, url.Values{"csrf": {"forged"}}); r.status != http.StatusForbidden || revoked(k.ID) {
		t.Fatalf("revoke with a wrong CSRF token = %d (revoked %v), want 403 and nothing revoked", r.status, revoked(k.ID))
	}
	if r := c.post("/console/ingest-keys/"+ok.ID+"/revoke", url.Values{}); r.status != http.StatusNotFound || revoked(ok.ID) {
		t.Errorf("revoke another account's key = %d, want 404", r.status)
	}
	c.get("/console/ingest-keys") // a fresh CSRF token from the page
	r := c.post(revoke, url.Values{})
	if r.status != http.StatusSeeOther || !revoked(k.ID) {
		t.Fatalf("revoke = %d (revoked %v), want 303 and the key revoked", r.status, revoked(k.ID))
	}
	after := c.get(r.header.Get("Location"))
	if !strings.Contains(after.body, "Ingest key “pipeline” revoked") || strings.Contains(after.body, `href="`+revoke+`"`) {
		t.Errorf("list after revoke lacks the notice or still offers Revoke:\n%s", after.body)
	}
}

// TestCreateIngestKey makes an ingest key from the page, as logbook
// ingest-key create does: shown once in a page that is not cached, working
// for the account, with its audit event (create/satoken); a blank name is
// refused and a forged form changes nothing.
func TestCreateIngestKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.signedIn(t, "admin@acme.test")
	if list := c.get("/console/ingest-keys"); !strings.Contains(list.body, `<form method="post" action="/console/ingest-keys"`) {
		t.Fatalf("ingest keys page has no form to make a key:\n%s", list.body)
	}
	if r := c.post("/console/ingest-keys", url.Values{"name": {"edge collector"}, "csrf": {"forged"}}); r.status != http.StatusForbidden {
		t.Errorf("create with a wrong CSRF token = %d, want 403", r.status)
	}
	if r := c.post("/console/ingest-keys", url.Values{"name": {"  "}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "Name: ") {
		t.Errorf("create with a blank name = %d, want 400 naming the field; body:\n%s", r.status, r.body)
	}
	r := c.post("/console/ingest-keys", url.Values{"name": {"edge collector"}})
	m := c.savedKey(t, r, "Save your ingest key")
	in, _ := b.st.Integration(ctx, b.mine)
	if ks, err := b.adm.IngestKeys(ctx, actorAs(t, b.adm, in.AccountUUID, "admin@acme.test")); err != nil || len(ks) != 1 {
		t.Errorf("ingest keys after making one and reloading its page = %d (%v), want 1", len(ks), err)
	}
	k, err := apikey.Ingest.Authenticate(ctx, b.st, m[1], b.clock.Now())
	if err != nil || k.Name != "edge collector" {
		t.Fatalf("the key shown authenticates as %q, %v; want edge collector", k.Name, err)
	}
	if in, _ := b.st.Integration(ctx, b.mine); k.AccountUUID != in.AccountUUID {
		t.Errorf("the key is of account %s, want Acme's", k.AccountUUID)
	}
	trail := b.auditTrail(t, b.mine)
	if got := trail[len(trail)-1]; !strings.HasPrefix(got, "create/satoken ") || !strings.Contains(got, "edge collector by admin@acme.test") {
		t.Errorf("last audit event = %q, want create/satoken of edge collector by admin@acme.test", got)
	}
	if list := c.get("/console/ingest-keys"); strings.Contains(list.body, m[1]) || !strings.Contains(list.body, "edge collector") {
		t.Error("the list shows the secret again or lacks the key")
	}
}
