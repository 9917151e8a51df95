package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/store"
)

// actorAs is the user email of account acting through adm.
func actorAs(t *testing.T, adm *admin.Service, account, email string) admin.Actor {
	t.Helper()
	actor, err := adm.ActorIn(context.Background(), account, email)
	if err != nil {
		t.Fatal(err)
	}
	return actor
}

// auditTrail returns the audit events of the integration's account as
// "action/objecttype aux by email", oldest first.
func (b *testBundle) auditTrail(t *testing.T, integration string) []string {
	t.Helper()
	ctx := context.Background()
	in, err := b.st.Integration(ctx, integration)
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.st.ListEvents(ctx, store.ListQuery{Account: in.AccountUUID, Feature: events.AuditEvents, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res.Rows {
		var e events.AuditEvent
		if err := json.Unmarshal(r.Data, &e); err != nil {
			t.Fatal(err)
		}
		by := ""
		if e.ActorDetails != nil {
			by = e.ActorDetails.Email
		}
		out = append(out, e.Action+"/"+e.ObjectType+" "+e.AuxInfo+" by "+by)
	}
	return out
}

// TestRenameToken renames a token from its integration's page, with the
// audit event logbook token rename records (trename/satoken).
func TestRenameToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, base, id := b.ownToken(t, "admin@acme.test", "old name")
	rename := base + "/tokens/" + id + "/rename"
	if page := c.get(base); !strings.Contains(page.body, `href="`+rename+`"`) {
		t.Errorf("integration page has no Rename link to %s", rename)
	}
	if form := c.get(rename); form.status != http.StatusOK || !strings.Contains(form.body, `value="old name"`) {
		t.Fatalf("rename form = %d, want 200 with the current name", form.status)
	}
	if r := c.post(rename, url.Values{"name": {"  "}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Token Name") {
		t.Errorf("rename to blank = %d, want 422 naming the field; body:\n%s", r.status, r.body)
	}
	if r := c.post(rename, url.Values{"name": {"new name"}, "csrf": {"wrong"}}); r.status != http.StatusForbidden {
		t.Errorf("rename with a wrong CSRF token = %d, want 403", r.status)
	}
	r := c.post(rename, url.Values{"name": {"new name"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("rename = %d, want 303; body:\n%s", r.status, r.body)
	}
	if page := c.get(r.header.Get("Location")); !strings.Contains(page.body, "Token renamed to “new name”") {
		t.Errorf("details after rename lack the notice:\n%s", page.body)
	}
	if tk, _ := b.st.Token(context.Background(), id); tk.Name != "new name" {
		t.Errorf("stored name = %q, want new name", tk.Name)
	}
	trail := b.auditTrail(t, b.mine)
	if got := trail[len(trail)-1]; got != "trename/satoken new name by admin@acme.test" {
		t.Errorf("last audit event = %q, want the rename by admin@acme.test", got)
	}
	// Another account's token is not found through this integration.
	if r := c.get("/console/integrations/" + b.other + "/tokens/" + id + "/rename"); r.status != http.StatusNotFound {
		t.Errorf("rename page through another account's integration = %d, want 404", r.status)
	}
}

// TestDeleteIntegration deletes an integration after a confirmation page,
// revoking its tokens with the audit events logbook integration delete
// records (trevoke/satoken for each).
func TestDeleteIntegration(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, base, id := b.ownToken(t, "owner@acme.test", "doomed")
	confirm := c.get(base + "/delete")
	if confirm.status != http.StatusOK || !strings.Contains(confirm.body, "Delete Integration") {
		t.Fatalf("confirmation page = %d", confirm.status)
	}
	if in, _ := b.st.Integration(context.Background(), b.mine); !in.DeletedAt.IsZero() {
		t.Fatal("showing the confirmation deleted the integration")
	}
	if r := c.post("/console/integrations/"+b.other+"/delete", url.Values{}); r.status != http.StatusNotFound {
		t.Errorf("delete another account's integration = %d, want 404", r.status)
	}
	if r := c.post(base+"/delete", url.Values{"csrf": {""}}); r.status != http.StatusForbidden {
		t.Errorf("delete without a CSRF token = %d, want 403", r.status)
	}
	r := c.post(base+"/delete", url.Values{})
	if r.status != http.StatusSeeOther {
		t.Fatalf("delete = %d, want 303; body:\n%s", r.status, r.body)
	}
	list := c.get(r.header.Get("Location"))
	if !strings.Contains(list.body, "Integration “Acme Splunk” deleted and its tokens revoked.") {
		t.Errorf("integrations page lacks the notice:\n%s", list.body)
	}
	if strings.Contains(list.body, `href="/console/integrations/`+b.mine+`"`) {
		t.Error("the deleted integration is still listed")
	}
	if tk, _ := b.st.Token(context.Background(), id); tk.RevokedAt.IsZero() {
		t.Error("the deleted integration's token is not revoked")
	}
	trail := b.auditTrail(t, b.mine)
	if got := trail[len(trail)-1]; got != "trevoke/satoken doomed by owner@acme.test" {
		t.Errorf("last audit event = %q, want the token's revocation by owner@acme.test", got)
	}
	if r := c.get(base); r.status != http.StatusNotFound {
		t.Errorf("deleted integration's page = %d, want 404", r.status)
	}
}

// TestUsersAndRoles lists users, adds one and changes roles, with the
// rules logbook user add and set-role keep: administrators cannot grant
// the owner role, the last owner stays.
func TestUsersAndRoles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	adm := b.signedIn(t, "admin@acme.test")
	page := adm.get("/console/users")
	for _, want := range []string{"owner@acme.test", "admin@acme.test", "member@acme.test"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("users page lacks %s", want)
		}
	}
	if strings.Contains(page.body, "owner@other.test") {
		t.Error("users page lists another account's user")
	}
	if r := adm.post("/console/users", url.Values{"email": {"not an address"}, "role": {"member"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "E-mail address:") {
		t.Errorf("add with a bad e-mail = %d, want 422 naming the field; body:\n%s", r.status, r.body)
	}
	if r := adm.post("/console/users", url.Values{"email": {"boss@acme.test"}, "role": {"owner"}}); r.status != http.StatusForbidden {
		t.Errorf("administrator adds an owner = %d, want 403", r.status)
	}
	r := adm.post("/console/users", url.Values{"email": {"new@acme.test"}, "name": {"New Person"}, "role": {"administrator"}, "password": {password}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("add user = %d, want 303; body:\n%s", r.status, r.body)
	}
	if page := adm.get(r.header.Get("Location")); !strings.Contains(page.body, "new@acme.test added as administrator.") {
		t.Errorf("users page lacks the notice:\n%s", page.body)
	}
	// The new administrator can sign in with the password given.
	b.signedIn(t, "new@acme.test")

	acct, _ := b.st.Integration(context.Background(), b.mine)
	member, err := b.st.UserByEmail(context.Background(), acct.AccountUUID, "member@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	owner, err := b.st.UserByEmail(context.Background(), acct.AccountUUID, "owner@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	if r := adm.post("/console/users/"+member.UUID+"/role", url.Values{"role": {"owner"}}); r.status != http.StatusForbidden {
		t.Errorf("administrator grants owner = %d, want 403", r.status)
	}
	r = adm.post("/console/users/"+member.UUID+"/role", url.Values{"role": {"administrator"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("set role = %d, want 303; body:\n%s", r.status, r.body)
	}
	if page := adm.get(r.header.Get("Location")); !strings.Contains(page.body, "member@acme.test is now administrator.") {
		t.Errorf("users page lacks the notice:\n%s", page.body)
	}
	if u, _ := b.st.User(context.Background(), member.UUID); u.Role != store.RoleAdmin {
		t.Errorf("stored role = %q, want administrator", u.Role)
	}
	own := b.signedIn(t, "owner@acme.test")
	if r := own.post("/console/users/"+owner.UUID+"/role", url.Values{"role": {"member"}}); r.status != http.StatusConflict || !strings.Contains(r.body, "last owner") {
		t.Errorf("demote the last owner = %d, want 409 saying so", r.status)
	}
	if r := own.post("/console/users/"+member.UUID+"/role", url.Values{"role": {"member"}, "csrf": {"wrong"}}); r.status != http.StatusForbidden {
		t.Errorf("set role with a wrong CSRF token = %d, want 403", r.status)
	}
	// Another account's user is not found.
	other, _ := b.st.Integration(context.Background(), b.other)
	ou, err := b.st.UserByEmail(context.Background(), other.AccountUUID, "owner@other.test")
	if err != nil {
		t.Fatal(err)
	}
	if r := own.post("/console/users/"+ou.UUID+"/role", url.Values{"role": {"member"}}); r.status != http.StatusNotFound {
		t.Errorf("set role of another account's user = %d, want 404", r.status)
	}
}

// TestKeysPage shows the signing keys and the user's own admin API keys.
func TestKeysPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	in, _ := b.st.Integration(ctx, b.mine)
	owner := actorAs(t, b.adm, in.AccountUUID, "owner@acme.test")
	administrator := actorAs(t, b.adm, in.AccountUUID, "admin@acme.test")
	mine, err := b.adm.CreateAPIKey(ctx, owner, "deploy script")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := b.adm.CreateAPIKey(ctx, administrator, "their script")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := b.adm.SigningKeys(ctx, owner)
	if err != nil || len(keys) == 0 {
		t.Fatalf("signing keys = %v, %v", keys, err)
	}
	page := b.signedIn(t, "owner@acme.test").get("/console/keys")
	if page.status != http.StatusOK {
		t.Fatalf("keys page = %d", page.status)
	}
	for _, want := range []string{keys[0].ID, "deploy script", mine.ID} {
		if !strings.Contains(page.body, want) {
			t.Errorf("keys page lacks %q", want)
		}
	}
	for _, leak := range []string{mine.Secret, theirs.ID, "their script"} {
		if strings.Contains(page.body, leak) {
			t.Errorf("keys page shows %q", leak)
		}
	}
}

// TestKeysActions rotates the signing key and makes and revokes an admin
// API key, as logbook keys rotate and admin-key create/revoke do.
func TestKeysActions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.signedIn(t, "admin@acme.test")
	in, _ := b.st.Integration(ctx, b.mine)
	owner := actorAs(t, b.adm, in.AccountUUID, "owner@acme.test")
	before, err := b.adm.SigningKeys(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}

	if r := c.get("/console/keys/rotate"); r.status != http.StatusOK || !strings.Contains(r.body, "Rotate Key") {
		t.Fatalf("rotate confirmation = %d", r.status)
	}
	if r := c.post("/console/keys/rotate", url.Values{"csrf": {""}}); r.status != http.StatusForbidden {
		t.Errorf("rotate without a CSRF token = %d, want 403", r.status)
	}
	r := c.post("/console/keys/rotate", url.Values{})
	if r.status != http.StatusSeeOther {
		t.Fatalf("rotate = %d, want 303", r.status)
	}
	after, err := b.adm.SigningKeys(ctx, owner)
	if err != nil || len(after) != len(before)+1 {
		t.Fatalf("signing keys after rotating = %v, %v; want one more than %v", after, err, before)
	}
	var active string
	for _, k := range after {
		if k.Active {
			active = k.ID
		}
	}
	if page := c.get(r.header.Get("Location")); !strings.Contains(page.body, "New tokens are now signed with key "+active) {
		t.Errorf("keys page after rotating lacks the notice for %s", active)
	}

	r = c.post("/console/keys/admin", url.Values{"name": {"ci job"}})
	m := c.savedKey(t, r, "Save your admin key")
	actor, err := b.adm.Authenticate(ctx, m[1], "127.0.0.1")
	if err != nil || actor.User.Email != "admin@acme.test" {
		t.Fatalf("the key shown authenticates as %q, %v; want admin@acme.test", actor.User.Email, err)
	}
	keys, _ := b.adm.APIKeys(ctx, actor)
	if len(keys) != 1 || keys[0].Name != "ci job" {
		t.Fatalf("admin keys = %v, want the one made", keys)
	}
	if page := c.get("/console/keys"); strings.Contains(page.body, m[1]) || !strings.Contains(page.body, "ci job") {
		t.Error("keys page shows the secret again, or not the key's name")
	}
	// Another user's key cannot be revoked through the console.
	theirs, err := b.adm.CreateAPIKey(ctx, owner, "owner's")
	if err != nil {
		t.Fatal(err)
	}
	if r := c.post("/console/keys/admin/"+theirs.ID+"/revoke", url.Values{}); r.status != http.StatusNotFound {
		t.Errorf("revoke another user's key = %d, want 404", r.status)
	}
	revoke := "/console/keys/admin/" + keys[0].ID + "/revoke"
	if r := c.get(revoke); r.status != http.StatusOK || !strings.Contains(r.body, "Revoke “ci job”?") {
		t.Fatalf("revoke confirmation = %d", r.status)
	}
	if _, err := b.adm.Authenticate(ctx, m[1], "127.0.0.1"); err != nil {
		t.Fatal("showing the confirmation revoked the key")
	}
	r = c.post(revoke, url.Values{})
	if r.status != http.StatusSeeOther {
		t.Fatalf("revoke = %d, want 303", r.status)
	}
	if page := c.get(r.header.Get("Location")); !strings.Contains(page.body, "Admin key “ci job” revoked.") {
		t.Errorf("keys page after revoking lacks the notice")
	}
	if _, err := b.adm.Authenticate(ctx, m[1], "127.0.0.1"); err == nil {
		t.Error("the revoked key still authenticates")
	}
	if _, err := b.adm.Authenticate(ctx, theirs.Secret, "127.0.0.1"); err != nil {
		t.Errorf("the owner's key stopped working: %v", err)
	}
}

// TestSIEMTilesShown: the directory's tiles show each SIEM's mark, name
// and connector, and the integrations list and details page show the
// integration's mark beside its type.
func TestSIEMTilesShown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "owner@acme.test")
	page := c.get("/console/integrations")
	for _, want := range []string{
		`<a class="tile tile-sumo-logic" href="/console/integrations/new?type=sumo-logic">`,
		`<span class="siem-mark tile-sumo-logic" aria-hidden="true">SL</span>`,
		`<span class="tile-blurb">Sumo Logic&#39;s 1Password Cloud-to-Cloud source</span>`,
		`<td data-label="Type"><span class="siem"><span class="siem-mark tile-splunk" aria-hidden="true">Sp</span> Splunk</span></td>`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("integrations page lacks %s", want)
		}
	}
	if d := c.get("/console/integrations/" + b.mine); !strings.Contains(d.body, `<span class="siem-mark tile-splunk" aria-hidden="true">Sp</span> Splunk`) {
		t.Error("details page lacks the SIEM's mark")
	}
}
