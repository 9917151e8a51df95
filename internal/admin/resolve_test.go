package admin_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/token"
)

// newService returns the admin domain over a SQLite store in a temp dir,
// with a signing key.
func newService(t *testing.T) *admin.Service {
	t.Helper()
	st := sqlitetest.New(t)
	tokens := token.New(st, "127.0.0.1:8080", token.Config{})
	if err := tokens.EnsureKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	return admin.New(st, tokens, admin.Config{})
}

// TestResolveAccountAndActorIn: an empty reference means the only
// account, and errors name the account field when there is none or
// several; ActorIn acts as the first owner or the user named.
func TestResolveAccountAndActorIn(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	svc := newService(t)

	if _, err := svc.ResolveAccount(ctx, ""); !errors.Is(err, admin.ErrNotFound) || admin.FieldOf(err) != "account" {
		t.Errorf("ResolveAccount(\"\") with no account = %v, want not found on account", err)
	}
	acme, owner, err := svc.CreateAccount(ctx, "Acme", admin.NewUser{Email: "owner@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"", "Acme", acme.UUID} {
		if a, err := svc.ResolveAccount(ctx, ref); err != nil || a.UUID != acme.UUID {
			t.Errorf("ResolveAccount(%q) = %s, %v; want %s", ref, a.UUID, err, acme.UUID)
		}
	}
	if _, err := svc.ResolveAccount(ctx, "Nope"); !errors.Is(err, admin.ErrNotFound) {
		t.Errorf("ResolveAccount(Nope) = %v, want not found", err)
	}
	actor, err := svc.ActorIn(ctx, "", "")
	if err != nil || actor.User.UUID != owner.UUID || actor.Account.UUID != acme.UUID {
		t.Errorf("ActorIn(\"\", \"\") = %+v, %v; want Acme's first owner", actor, err)
	}
	if _, err := svc.ActorIn(ctx, "Acme", "nobody@acme.test"); !errors.Is(err, admin.ErrNotFound) {
		t.Errorf("ActorIn(Acme, nobody) = %v, want not found", err)
	}

	if _, _, err := svc.CreateAccount(ctx, "Beta", admin.NewUser{Email: "owner@beta.test"}); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"ResolveAccount": func() error { _, err := svc.ResolveAccount(ctx, ""); return err },
		"ActorIn":        func() error { _, err := svc.ActorIn(ctx, "", ""); return err },
	} {
		err := call()
		if !errors.Is(err, admin.ErrInvalid) || admin.FieldOf(err) != "account" || !strings.Contains(err.Error(), "Acme, Beta") {
			t.Errorf("%s with two accounts = %v, want invalid account naming both", name, err)
		}
	}
	if a, err := svc.ActorIn(ctx, "Beta", "owner@beta.test"); err != nil || a.Account.Name != "Beta" {
		t.Errorf("ActorIn(Beta, owner@beta.test) = %+v, %v", a, err)
	}
}

// TestListedTokens names each token's account and integration, filters by
// integration, and refuses a member.
func TestListedTokens(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	svc := newService(t)
	if _, _, err := svc.CreateAccount(ctx, "Acme", admin.NewUser{Email: "owner@acme.test"}); err != nil {
		t.Fatal(err)
	}
	owner, err := svc.ActorIn(ctx, "Acme", "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, name := range []string{"Splunk", "Elastic"} {
		in, err := svc.CreateIntegration(ctx, owner, name, "Other")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := svc.IssueToken(ctx, owner, admin.IssueRequest{Integration: in.UUID, Name: strings.ToLower(name)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tok.ID)
	}
	all, err := svc.ListedTokens(ctx, owner, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, lt := range all {
		if lt.AccountName != "Acme" || lt.AccountUUID != owner.Account.UUID {
			t.Errorf("token %s in account %q %s, want Acme", lt.ID, lt.AccountName, lt.AccountUUID)
		}
		got = append(got, lt.Name+" "+lt.IntegrationName)
	}
	slices.Sort(got)
	if want := []string{"elastic Elastic", "splunk Splunk"}; !slices.Equal(got, want) {
		t.Errorf("ListedTokens = %q, want %q", got, want)
	}
	one, err := svc.ListedTokens(ctx, owner, "Elastic")
	if err != nil || len(one) != 1 || one[0].ID != ids[1] {
		t.Errorf("ListedTokens(Elastic) = %+v, %v; want the elastic token only", one, err)
	}
	if _, err := svc.AddUser(ctx, owner, admin.NewUser{Email: "member@acme.test"}); err != nil {
		t.Fatal(err)
	}
	member, err := svc.ActorIn(ctx, "Acme", "member@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ListedTokens(ctx, member, ""); !errors.Is(err, admin.ErrForbidden) {
		t.Errorf("ListedTokens as a member = %v, want forbidden", err)
	}
}

// TestCreateAccountUUID: an account can be made with a given uuid (a
// mirror's, its source's), once; what is not an account uuid is refused
// on the uuid field.
func TestCreateAccountUUID(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	svc := newService(t)
	const uuid = "KHUVUCTBHVDSNDHXKDGM7UESYU"
	a, _, err := svc.CreateAccountUUID(ctx, uuid, "Mirror", admin.NewUser{Email: "ops@acme.test"})
	if err != nil || a.UUID != uuid {
		t.Fatalf("CreateAccountUUID = %+v, %v", a, err)
	}
	if _, _, err := svc.CreateAccountUUID(ctx, uuid, "Other", admin.NewUser{Email: "ops@acme.test"}); !errors.Is(err, admin.ErrConflict) || admin.FieldOf(err) != "uuid" {
		t.Errorf("the same uuid again = %v, want a conflict on uuid", err)
	}
	if _, _, err := svc.CreateAccountUUID(ctx, "khuvuctbhvdsndhxkdgm7uesyu", "Lower", admin.NewUser{Email: "ops@acme.test"}); !errors.Is(err, admin.ErrInvalid) || admin.FieldOf(err) != "uuid" {
		t.Errorf("a lower-case uuid = %v, want invalid uuid", err)
	}
}
