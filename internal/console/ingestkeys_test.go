package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestIngestKeysPage: the page lists the account's ingest keys (never a
// secret), Revoke asks first, the POST needs the session's CSRF token,
// and a key of another account is not found.
func TestIngestKeysPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	acme, _ := b.adm.Account(ctx, "Acme")
	owner, _ := b.adm.ActorAs(ctx, acme, "")
	k, err := b.adm.CreateIngestKey(ctx, owner, "pipeline")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := b.adm.Account(ctx, "Other")
	otherOwner, _ := b.adm.ActorAs(ctx, other, "")
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
