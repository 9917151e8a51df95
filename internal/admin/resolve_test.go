package admin_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/store/sqlite"
)

// TestResolveAccountAndActorIn: an empty reference means the only
// account, and errors name the account field when there is none or
// several; ActorIn acts as the first owner or the user named.
func TestResolveAccountAndActorIn(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "logbook.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := admin.New(st, nil, admin.Config{})

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
