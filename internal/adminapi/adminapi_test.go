package adminapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/adminapi"
	"github.com/logbookhq/logbook/internal/api"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/roundtrip"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/testenv"
	"github.com/logbookhq/logbook/internal/token"
)

type testBundle struct {
	url   string
	clock *testenv.Clock
	svc   *admin.Service
	st    store.Store
	// Admin keys: the owner, an administrator and a member of "Acme", and
	// the owner of another account, "Other".
	owner, administrator, member, other string
	acme                                admin.Account
	ownerUser                           admin.User
}

// setup runs the Events API and the admin API on one real listener over a
// real SQLite database, as the server does.
func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := t.Context()
	st := sqlitetest.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	clk := testenv.NewClock(time.Now().UTC().Truncate(time.Second))
	tokens := token.New(st, ln.Addr().String(), token.Config{Now: clk.Now})
	if err := tokens.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	svc := admin.New(st, tokens, admin.Config{Now: clk.Now})
	mux := http.NewServeMux()
	mux.Handle("/api/", api.NewHandler(api.Config{Store: st, Tokens: tokens, CursorKey: bytes.Repeat([]byte{7}, 32), Now: clk.Now}))
	mux.Handle(adminapi.Prefix+"/", adminapi.NewHandler(adminapi.Config{Admin: svc}))
	mux.Handle(ingest.Prefix, ingest.NewHandler(ingest.Config{Store: st, Now: clk.Now}))
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	srv.Start()
	t.Cleanup(srv.Close)

	b := &testBundle{url: srv.URL, clock: clk, svc: svc, st: st}
	var acme store.Account
	b.acme, b.ownerUser, acme, b.owner = newAccount(t, svc, st, "Acme", "owner@acme.test")
	b.administrator = addUserKey(t, svc, st, acme, "admin@acme.test", store.RoleAdmin)
	b.member = addUserKey(t, svc, st, acme, "member@acme.test", store.RoleMember)
	_, _, _, b.other = newAccount(t, svc, st, "Other", "owner@other.test")
	return b
}

func newAccount(t *testing.T, svc *admin.Service, st store.Store, name, email string) (admin.Account, admin.User, store.Account, string) {
	t.Helper()
	ctx := t.Context()
	a, u, err := svc.CreateAccount(ctx, name, admin.NewUser{Email: email})
	if err != nil {
		t.Fatal(err)
	}
	sa, err := st.Account(ctx, a.UUID)
	if err != nil {
		t.Fatal(err)
	}
	actor, err := svc.ActorAs(ctx, sa, "")
	if err != nil {
		t.Fatal(err)
	}
	k, err := svc.CreateAPIKey(ctx, actor, "test")
	if err != nil {
		t.Fatal(err)
	}
	return a, u, sa, k.Secret
}

func addUserKey(t *testing.T, svc *admin.Service, st store.Store, acct store.Account, email string, role store.Role) string {
	t.Helper()
	ctx := t.Context()
	owner, err := svc.ActorAs(ctx, acct, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddUser(ctx, owner, admin.NewUser{Email: email, Role: role}); err != nil {
		t.Fatal(err)
	}
	actor, err := svc.ActorAs(ctx, acct, email)
	if err != nil {
		t.Fatal(err)
	}
	k, err := svc.CreateAPIKey(ctx, actor, "test")
	if err != nil {
		t.Fatal(err)
	}
	return k.Secret
}

// call makes an admin API request and decodes a JSON reply into out when
// out is not nil. It returns the status and the raw body.
func (b *testBundle) call(t *testing.T, key, method, path string, body any, out any) (int, []byte) {
	t.Helper()
	var text string
	switch v := body.(type) {
	case nil:
	case string:
		text = v
	default:
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		text = string(j)
	}
	status, raw := roundtrip.Call(t, method, b.url+adminapi.Prefix+path, key, text)
	if out != nil && status < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return status, raw
}

// mustCall is call that fails the test unless the status is want.
func (b *testBundle) mustCall(t *testing.T, key, method, path string, body any, want int, out any) {
	t.Helper()
	if got, raw := b.call(t, key, method, path, body, out); got != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, got, raw, want)
	}
}

// events posts a reset to an Events API endpoint with a bearer token and
// returns the status and body.
func (b *testBundle) events(t *testing.T, bearer, path string) (int, []byte) {
	t.Helper()
	return roundtrip.Call(t, "POST", b.url+path, bearer, `{"limit":1000,"start_time":"2000-01-01T00:00:00Z"}`)
}

func (b *testBundle) wantEvents(t *testing.T, bearer string, want map[events.Feature]int) {
	t.Helper()
	for _, f := range events.AllFeatures {
		if got, raw := b.events(t, bearer, "/api/v2/"+string(f)); got != want[f] {
			t.Errorf("POST /api/v2/%s = %d %s, want %d", f, got, raw, want[f])
		}
	}
}

func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var in admin.Integration
	b.mustCall(t, b.owner, "POST", "/integrations", map[string]any{"name": "Splunk prod", "siem": "splunk"}, 201, &in)
	if in.SIEM != "Splunk" || in.Name != "Splunk prod" || !events.ValidUpperID(in.UUID) {
		t.Errorf("created integration = %+v, want Splunk prod of type Splunk with an id", in)
	}

	var iu admin.Issued
	b.mustCall(t, b.administrator, "POST", "/integrations/"+in.UUID+"/tokens",
		map[string]any{"name": "items only", "features": []string{"itemusages"}}, 201, &iu)
	if diff := cmp.Diff([]events.Feature{events.ItemUsages}, iu.Features); diff != "" {
		t.Errorf("issued features (-want +got):\n%s", diff)
	}
	if iu.Secret == "" || iu.Status != admin.StatusActive || !iu.ExpiresAt.IsZero() {
		t.Errorf("issued = %+v, want an active never-expiring token with its secret", iu.Token)
	}
	b.wantEvents(t, iu.Secret, map[events.Feature]int{events.ItemUsages: 200, events.SignInAttempts: 401, events.AuditEvents: 401})

	// The token is listed without its secret.
	var listed struct{ Items []map[string]any }
	b.mustCall(t, b.owner, "GET", "/integrations/"+in.UUID+"/tokens", nil, 200, &listed)
	if len(listed.Items) != 1 || listed.Items[0]["id"] != iu.ID || listed.Items[0]["token"] != nil {
		t.Errorf("token list = %v, want the one token, no secret", listed.Items)
	}

	var renamed admin.Token
	b.mustCall(t, b.owner, "PATCH", "/tokens/"+iu.ID, map[string]any{"name": "item usages"}, 200, &renamed)
	if renamed.Name != "item usages" {
		t.Errorf("renamed name = %q, want %q", renamed.Name, "item usages")
	}
	var revoked admin.Token
	b.mustCall(t, b.owner, "POST", "/tokens/item usages/revoke", nil, 200, &revoked)
	if revoked.Status != admin.StatusRevoked {
		t.Errorf("status after revoke = %q, want revoked", revoked.Status)
	}
	if got, raw := b.events(t, iu.Secret, "/api/v2/itemusages"); got != 401 {
		t.Errorf("itemusages after revoke = %d %s, want 401", got, raw)
	}

	// The trail of all this, read with a token that has only auditevents.
	var au admin.Issued
	b.mustCall(t, b.owner, "POST", "/integrations/Splunk prod/tokens",
		map[string]any{"name": "audit", "features": []string{"auditevents"}, "expires_in": "30d"}, 201, &au)
	if want := b.clock.Now().Add(30 * 24 * time.Hour); !au.ExpiresAt.Equal(want) {
		t.Errorf("expires_at = %v, want %v", au.ExpiresAt, want)
	}
	status, raw := b.events(t, au.Secret, "/api/v2/auditevents")
	if status != 200 {
		t.Fatalf("auditevents = %d %s", status, raw)
	}
	var page events.Page[events.AuditEvent]
	if err := json.Unmarshal(raw, &page); err != nil {
		t.Fatal(err)
	}
	type row struct{ Action, ObjectType, ObjectUUID, AuxInfo, Actor, Email, ActorType, Account, IP string }
	var got []row
	for _, e := range page.Items {
		r := row{Action: e.Action, ObjectType: e.ObjectType, AuxInfo: e.AuxInfo, Actor: e.ActorUUID,
			ActorType: e.ActorType, Account: e.AccountUUID}
		if e.ObjectUUID != nil {
			r.ObjectUUID = *e.ObjectUUID
		}
		if e.ActorDetails != nil {
			r.Email = e.ActorDetails.Email
		}
		if e.Session != nil {
			r.IP = e.Session.IP
		}
		got = append(got, r)
	}
	admUUID := b.userUUID(t, "admin@acme.test")
	own := b.ownerUser.UUID
	want := []row{
		{"create", "sa", in.UUID, "D", own, "owner@acme.test", "user", b.acme.UUID, "127.0.0.1"},
		{"create", "satoken", in.UUID, "items only", admUUID, "admin@acme.test", "user", b.acme.UUID, "127.0.0.1"},
		{"trename", "satoken", in.UUID, "item usages", own, "owner@acme.test", "user", b.acme.UUID, "127.0.0.1"},
		{"trevoke", "satoken", in.UUID, "item usages", own, "owner@acme.test", "user", b.acme.UUID, "127.0.0.1"},
		{"create", "satoken", in.UUID, "audit", own, "owner@acme.test", "user", b.acme.UUID, "127.0.0.1"},
		{"expire", "sa", in.UUID, au.ExpiresAt.UTC().Format(time.RFC3339), own, "owner@acme.test", "user", b.acme.UUID, "127.0.0.1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit trail (-want +got):\n%s", diff)
	}
	// The other account's stream has none of it.
	otherActor := b.actor(t, "Other")
	if n, err := b.st.HeadPosition(t.Context(), otherActor.Account.UUID, events.AuditEvents); err != nil || n != 0 {
		t.Errorf("Other's audit head = %d, %v; want 0", n, err)
	}

	// Expiry: the 30-day token works until its time, then is 401.
	b.clock.Advance(30*24*time.Hour - time.Second)
	if got, raw := b.events(t, au.Secret, "/api/v2/auditevents"); got != 200 {
		t.Errorf("auditevents a second before expiry = %d %s, want 200", got, raw)
	}
	b.clock.Advance(time.Second)
	if got, raw := b.events(t, au.Secret, "/api/v2/auditevents"); got != 401 {
		t.Errorf("auditevents at expiry = %d %s, want 401", got, raw)
	}
	var shown admin.IntegrationDetails
	b.mustCall(t, b.owner, "GET", "/integrations/"+in.UUID, nil, 200, &shown)
	// Both tokens were issued in the same second of the test clock, so
	// their order is not fixed: compare by name.
	statuses := map[string]string{}
	for _, tk := range shown.TokenList {
		statuses[tk.Name] = tk.Status
	}
	if diff := cmp.Diff(map[string]string{"item usages": "revoked", "audit": "expired"}, statuses); diff != "" || shown.Tokens != 0 {
		t.Errorf("token statuses (-want +got):\n%s active=%d", diff, shown.Tokens)
	}
}

func (b *testBundle) userUUID(t *testing.T, email string) string {
	t.Helper()
	var us struct{ Items []admin.User }
	b.mustCall(t, b.owner, "GET", "/users", nil, 200, &us)
	for _, u := range us.Items {
		if u.Email == email {
			return u.UUID
		}
	}
	t.Fatalf("no user %s", email)
	return ""
}

func (b *testBundle) actor(t *testing.T, account string) admin.Actor {
	t.Helper()
	actor, err := b.svc.ActorIn(t.Context(), account, "")
	if err != nil {
		t.Fatal(err)
	}
	return actor
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var in admin.Integration
	b.mustCall(t, b.owner, "POST", "/integrations", map[string]any{"name": "SIEM"}, 201, &in)
	var before, after admin.Issued
	b.mustCall(t, b.owner, "POST", "/integrations/SIEM/tokens", map[string]any{"name": "old"}, 201, &before)
	var k admin.SigningKey
	b.mustCall(t, b.owner, "POST", "/signing-keys/rotate", nil, 201, &k)
	b.mustCall(t, b.owner, "POST", "/integrations/SIEM/tokens", map[string]any{"name": "new"}, 201, &after)
	if before.KeyID == after.KeyID || after.KeyID != k.ID {
		t.Errorf("kids: before %s, after %s, rotated %s; want after = rotated != before", before.KeyID, after.KeyID, k.ID)
	}
	all := map[events.Feature]int{events.AuditEvents: 200, events.ItemUsages: 200, events.SignInAttempts: 200}
	b.wantEvents(t, before.Secret, all)
	b.wantEvents(t, after.Secret, all)
	var keys struct{ Items []admin.SigningKey }
	b.mustCall(t, b.administrator, "GET", "/signing-keys", nil, 200, &keys)
	var active []string
	for _, sk := range keys.Items {
		if sk.Active {
			active = append(active, sk.ID)
		}
	}
	if len(keys.Items) != 2 || !cmp.Equal(active, []string{k.ID}) {
		t.Errorf("signing keys = %+v, want 2 with %s the only active one", keys.Items, k.ID)
	}
}

func TestDeleteIntegrationRevokesTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var in admin.Integration
	b.mustCall(t, b.owner, "POST", "/integrations", map[string]any{"name": "Elastic", "siem": "elastic"}, 201, &in)
	var t1, t2 admin.Issued
	b.mustCall(t, b.owner, "POST", "/integrations/"+in.UUID+"/tokens", map[string]any{"name": "a"}, 201, &t1)
	b.mustCall(t, b.owner, "POST", "/integrations/"+in.UUID+"/tokens", map[string]any{"name": "b", "features": []string{"signinattempts"}}, 201, &t2)
	b.mustCall(t, b.owner, "DELETE", "/integrations/"+in.UUID, nil, 200, nil)
	for _, tk := range []admin.Issued{t1, t2} {
		if got, _ := b.events(t, tk.Secret, "/api/v2/signinattempts"); got != 401 {
			t.Errorf("token %s after delete = %d, want 401", tk.Name, got)
		}
	}
	b.mustCall(t, b.owner, "GET", "/integrations/"+in.UUID, nil, 404, nil)
	var live, all struct{ Items []admin.Integration }
	b.mustCall(t, b.owner, "GET", "/integrations", nil, 200, &live)
	b.mustCall(t, b.owner, "GET", "/integrations?deleted=true", nil, 200, &all)
	if len(live.Items) != 0 || len(all.Items) != 1 || all.Items[0].DeletedAt.IsZero() {
		t.Errorf("after delete: live %+v, all %+v; want none live, one deleted", live.Items, all.Items)
	}
	// The name is free again.
	b.mustCall(t, b.owner, "POST", "/integrations", map[string]any{"name": "Elastic"}, 201, nil)
}

func TestUsersAndAdminKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var u admin.User
	b.mustCall(t, b.administrator, "POST", "/users", map[string]any{"email": "new@acme.test", "name": "New Person", "password": "correct horse battery"}, 201, &u)
	if u.Role != store.RoleMember || !u.HasPassword || u.Name != "New Person" {
		t.Errorf("added user = %+v, want a member with a password", u)
	}
	if _, err := b.svc.CheckUserPassword(t.Context(), b.actor(t, "Acme").Account, "new@acme.test", "correct horse battery"); err != nil {
		t.Errorf("CheckUserPassword(right password) = %v", err)
	}
	if _, err := b.svc.CheckUserPassword(t.Context(), b.actor(t, "Acme").Account, "new@acme.test", "wrong horse battery"); !errors.Is(err, admin.ErrUnauthenticated) {
		t.Errorf("CheckUserPassword(wrong password) = %v, want ErrUnauthenticated", err)
	}
	b.mustCall(t, b.owner, "PATCH", "/users/new@acme.test", map[string]any{"role": "administrator"}, 200, &u)
	if u.Role != store.RoleAdmin {
		t.Errorf("role after PATCH = %q, want administrator", u.Role)
	}
	var me struct {
		Account admin.Account
		User    admin.User
	}
	b.mustCall(t, b.member, "GET", "/me", nil, 200, &me)
	if me.User.Email != "member@acme.test" || me.Account.Name != "Acme" {
		t.Errorf("me = %+v", me)
	}
	// A key made through the API works, and stops working once revoked.
	var k admin.NewAPIKey
	b.mustCall(t, b.member, "POST", "/admin-keys", map[string]any{"name": "second"}, 201, &k)
	b.mustCall(t, k.Secret, "GET", "/users", nil, 200, nil)
	b.mustCall(t, b.member, "DELETE", "/admin-keys/"+k.ID, nil, 200, nil)
	b.mustCall(t, k.Secret, "GET", "/users", nil, 401, nil)
	// Another user's key is not found.
	b.mustCall(t, b.owner, "DELETE", "/admin-keys/"+k.ID, nil, 404, nil)
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var in admin.Integration
	b.mustCall(t, b.owner, "POST", "/integrations", map[string]any{"name": "Datadog", "siem": "Datadog"}, 201, &in)
	var tk admin.Issued
	b.mustCall(t, b.owner, "POST", "/integrations/"+in.UUID+"/tokens", map[string]any{"name": "t"}, 201, &tk)
	unknownID := events.NewID()

	tests := []struct {
		name         string
		key          string
		method, path string
		body         any
		status       int
		want         adminapi.ErrorDetail // Message checked only when set
	}{
		{"no key", "", "GET", "/integrations", nil, 401, adminapi.ErrorDetail{Code: "unauthenticated"}},
		{"events token as admin key", tk.Secret, "GET", "/integrations", nil, 401, adminapi.ErrorDetail{Code: "unauthenticated"}},
		{"tampered key", tamper(b.owner), "GET", "/integrations", nil, 401, adminapi.ErrorDetail{Code: "unauthenticated"}},
		{"member creates integration", b.member, "POST", "/integrations", map[string]any{"name": "x"}, 403, adminapi.ErrorDetail{Code: "forbidden"}},
		{"member lists integrations", b.member, "GET", "/integrations", nil, 403, adminapi.ErrorDetail{Code: "forbidden"}},
		{"member issues token", b.member, "POST", "/integrations/" + in.UUID + "/tokens", map[string]any{"name": "x"}, 403, adminapi.ErrorDetail{Code: "forbidden"}},
		{"member revokes token", b.member, "POST", "/tokens/" + tk.ID + "/revoke", nil, 403, adminapi.ErrorDetail{Code: "forbidden"}},
		{"member rotates keys", b.member, "POST", "/signing-keys/rotate", nil, 403, adminapi.ErrorDetail{Code: "forbidden"}},
		{"administrator adds owner", b.administrator, "POST", "/users", map[string]any{"email": "o2@acme.test", "role": "owner"}, 403, adminapi.ErrorDetail{Code: "forbidden"}},
		{"another account's integration", b.other, "GET", "/integrations/" + in.UUID, nil, 404,
			adminapi.ErrorDetail{Code: "not_found", Field: "integration", Message: "integration: no integration " + in.UUID}},
		{"another account's integration tokens", b.other, "POST", "/integrations/" + in.UUID + "/tokens", map[string]any{"name": "x"}, 404, adminapi.ErrorDetail{Code: "not_found", Field: "integration"}},
		{"another account's token", b.other, "POST", "/tokens/" + tk.ID + "/revoke", nil, 404, adminapi.ErrorDetail{Code: "not_found", Field: "token"}},
		{"unknown integration", b.owner, "DELETE", "/integrations/" + unknownID, nil, 404, adminapi.ErrorDetail{Code: "not_found", Field: "integration"}},
		{"unknown token", b.owner, "PATCH", "/tokens/" + events.NewLowerID(), map[string]any{"name": "x"}, 404, adminapi.ErrorDetail{Code: "not_found", Field: "token"}},
		{"unknown user", b.owner, "PATCH", "/users/nobody@acme.test", map[string]any{"role": "member"}, 404, adminapi.ErrorDetail{Code: "not_found", Field: "user"}},
		{"unknown endpoint", b.owner, "GET", "/nothing", nil, 404, adminapi.ErrorDetail{Code: "not_found"}},
		{"invalid expiry", b.owner, "POST", "/integrations/" + in.UUID + "/tokens", map[string]any{"name": "x", "expires_in": "soon"}, 400, adminapi.ErrorDetail{Code: "invalid", Field: "expires_in"}},
		{"negative expiry", b.owner, "POST", "/integrations/" + in.UUID + "/tokens", map[string]any{"name": "x", "expires_in": "-5d"}, 400, adminapi.ErrorDetail{Code: "invalid", Field: "expires_in"}},
		{"empty feature list", b.owner, "POST", "/integrations/" + in.UUID + "/tokens", map[string]any{"name": "x", "features": []string{}}, 400,
			adminapi.ErrorDetail{Code: "invalid", Field: "features", Message: "features: at least one feature is required (signinattempts, itemusages, auditevents)"}},
		{"unknown feature", b.owner, "POST", "/integrations/" + in.UUID + "/tokens", map[string]any{"name": "x", "features": []string{"vaultaccess"}}, 400, adminapi.ErrorDetail{Code: "invalid", Field: "features"}},
		{"features not an array", b.owner, "POST", "/integrations/" + in.UUID + "/tokens", `{"name":"x","features":"itemusages"}`, 400, adminapi.ErrorDetail{Code: "invalid", Field: "features"}},
		{"token without name", b.owner, "POST", "/integrations/" + in.UUID + "/tokens", map[string]any{}, 400, adminapi.ErrorDetail{Code: "invalid", Field: "name", Message: "name: is required"}},
		{"unknown body field", b.owner, "POST", "/integrations", map[string]any{"name": "x", "type": "splunk"}, 400, adminapi.ErrorDetail{Code: "invalid", Field: "type", Message: "type: unknown field"}},
		{"not JSON", b.owner, "POST", "/integrations", "name=x", 400, adminapi.ErrorDetail{Code: "invalid", Field: "body"}},
		{"unknown SIEM", b.owner, "POST", "/integrations", map[string]any{"name": "x", "siem": "QRadar"}, 400, adminapi.ErrorDetail{Code: "invalid", Field: "siem"}},
		{"duplicate integration", b.owner, "POST", "/integrations", map[string]any{"name": "datadog"}, 409, adminapi.ErrorDetail{Code: "conflict", Field: "name"}},
		{"bad role", b.owner, "POST", "/users", map[string]any{"email": "x@acme.test", "role": "root"}, 400, adminapi.ErrorDetail{Code: "invalid", Field: "role"}},
		{"bad email", b.owner, "POST", "/users", map[string]any{"email": "not-an-address"}, 400, adminapi.ErrorDetail{Code: "invalid", Field: "email"}},
		{"short password", b.owner, "POST", "/users", map[string]any{"email": "x@acme.test", "password": "short"}, 400, adminapi.ErrorDetail{Code: "invalid", Field: "password"}},
		{"demote the last owner", b.owner, "PATCH", "/users/owner@acme.test", map[string]any{"role": "member"}, 409, adminapi.ErrorDetail{Code: "conflict", Field: "role"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, raw := b.call(t, tt.key, tt.method, tt.path, tt.body, nil)
			if status != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, status, raw, tt.status)
			}
			var got adminapi.ErrorBody
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("error body %s: %v", raw, err)
			}
			if got.Error.Message == "" {
				t.Errorf("error body %s has no message", raw)
			}
			if tt.want.Message == "" {
				got.Error.Message = ""
			}
			if diff := cmp.Diff(tt.want, got.Error); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
	// None of the refused requests changed anything: the token still works
	// and the integration is the only one.
	if got, _ := b.events(t, tk.Secret, "/api/v2/itemusages"); got != 200 {
		t.Errorf("token after refusals = %d, want 200", got)
	}
	var live struct{ Items []admin.Integration }
	b.mustCall(t, b.owner, "GET", "/integrations", nil, 200, &live)
	if len(live.Items) != 1 {
		t.Errorf("integrations after refusals = %+v, want only Datadog", live.Items)
	}
}

// An admin key never opens the Events API, on any endpoint or version.
func TestAdminKeyDoesNotOpenEventsAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/api/v1/auditevents", "/api/v2/auditevents", "/api/v2/itemusages", "/api/v1/signinattempts"} {
		if got, raw := b.events(t, b.owner, path); got != 401 {
			t.Errorf("POST %s with an admin key = %d %s, want 401", path, got, raw)
		}
	}
	if got, _ := roundtrip.Call(t, "GET", b.url+"/api/v2/auth/introspect", b.owner, ""); got != 401 {
		t.Errorf("introspect with an admin key = %d, want 401", got)
	}
}

func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var doc map[string]any
	b.mustCall(t, "", "GET", "/openapi.json", nil, 200, &doc)
	if doc["openapi"] != "3.0.3" {
		t.Errorf("openapi = %v, want 3.0.3", doc["openapi"])
	}
}

// tamper changes the last character of a credential (to another one: a
// fixed replacement would leave 1 key in 64 unchanged).
func tamper(key string) string {
	repl := byte('A')
	if key[len(key)-1] == 'A' {
		repl = 'B'
	}
	return key[:len(key)-1] + string(repl)
}

// TestServeWindow: owners and administrators set their account's serving
// window (a span, forever, default), which /me then shows; members may
// not, and what is not a window is 400. It records no audit event.
func TestServeWindow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	head, err := b.st.HeadPosition(ctx, b.acme.UUID, events.AuditEvents)
	if err != nil {
		t.Fatal(err)
	}
	var a admin.Account
	b.mustCall(t, b.administrator, "PUT", "/serve-window", map[string]any{"serve_window": "400d"}, 200, &a)
	if a.ServeWindow != "400d" || a.UUID != b.acme.UUID {
		t.Errorf("PUT 400d = %+v", a)
	}
	b.mustCall(t, b.owner, "PUT", "/serve-window", map[string]any{"serve_window": "forever"}, 200, &a)
	var me struct{ Account admin.Account }
	b.mustCall(t, b.member, "GET", "/me", nil, 200, &me)
	if me.Account.ServeWindow != "forever" {
		t.Errorf("me after forever = %+v", me.Account)
	}
	if sa, err := b.st.Account(ctx, b.acme.UUID); err != nil || sa.ServeWindow != store.ServeForever {
		t.Errorf("stored account = %+v, %v", sa, err)
	}
	b.mustCall(t, b.member, "PUT", "/serve-window", map[string]any{"serve_window": "30d"}, 403, nil)
	b.mustCall(t, b.owner, "PUT", "/serve-window", map[string]any{"serve_window": "5m"}, 400, nil)
	b.mustCall(t, b.owner, "PUT", "/serve-window", map[string]any{"serve_window": "soon"}, 400, nil)
	var def admin.Account
	b.mustCall(t, b.owner, "PUT", "/serve-window", map[string]any{"serve_window": "default"}, 200, &def)
	if def.ServeWindow != "" || def.UUID != b.acme.UUID {
		t.Errorf("PUT default = %+v, want no serve_window (the server's)", def)
	}
	if after, _ := b.st.HeadPosition(ctx, b.acme.UUID, events.AuditEvents); after != head {
		t.Errorf("audit stream moved from %d to %d", head, after)
	}
}
