package admin_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/token"
)

// TestRevokeByRef: tokens and ingest keys are found the same way (findByRef):
// by id in either case, by the listed prefix or whole key for ingest keys,
// or by a name only one of the account's has; a shared name, an unknown
// name and another account's id are refused with the field named.
func TestRevokeByRef(t *testing.T) {
	ctx := t.Context()
	st := sqlitetest.New(t)
	tokens := token.New(st, "events.test", token.Config{})
	if err := tokens.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	adm := admin.New(st, tokens, admin.Config{})
	actor := func(name string) admin.Actor {
		t.Helper()
		acct, _, err := adm.CreateAccount(ctx, name, admin.NewUser{Email: "owner@" + strings.ToLower(name) + ".test"})
		if err != nil {
			t.Fatal(err)
		}
		sa, err := st.Account(ctx, acct.UUID)
		if err != nil {
			t.Fatal(err)
		}
		a, err := adm.ActorAs(ctx, sa, "owner@"+strings.ToLower(name)+".test")
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a, other := actor("Acme"), actor("Other")
	in, err := adm.CreateIntegration(ctx, a, "Splunk", "splunk")
	if err != nil {
		t.Fatal(err)
	}
	mustKey := func(a admin.Actor, name string) admin.NewIngestKey {
		k, err := adm.CreateIngestKey(ctx, a, name)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	mustToken := func(name string) admin.Issued {
		tok, err := adm.IssueToken(ctx, a, admin.IssueRequest{Integration: in.UUID, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	byID, byPrefix, byWhole, byName := mustKey(a, "k1"), mustKey(a, "k2"), mustKey(a, "k3"), mustKey(a, "unique")
	mustKey(a, "twin")
	mustKey(a, "twin")
	foreign := mustKey(other, "theirs")
	for _, tc := range []struct{ ref, want string }{
		{strings.ToUpper(byID.ID), byID.ID},
		{byPrefix.Prefix, byPrefix.ID},
		{byWhole.Secret, byWhole.ID},
		{"  unique ", byName.ID},
	} {
		k, err := adm.RevokeIngestKey(ctx, a, tc.ref)
		if err != nil || k.ID != tc.want || k.Status != admin.StatusRevoked {
			t.Errorf("RevokeIngestKey(%.34q) = %s %s, %v; want %s revoked", tc.ref, k.ID, k.Status, err, tc.want)
		}
	}
	tokID, tokName := mustToken("t1"), mustToken("solo")
	mustToken("pair")
	mustToken("pair")
	for _, tc := range []struct{ ref, want string }{{strings.ToUpper(tokID.ID), tokID.ID}, {"solo", tokName.ID}} {
		tok, err := adm.RevokeToken(ctx, a, tc.ref)
		if err != nil || tok.ID != tc.want || tok.Status != admin.StatusRevoked {
			t.Errorf("RevokeToken(%q) = %s %s, %v; want %s revoked", tc.ref, tok.ID, tok.Status, err, tc.want)
		}
	}

	refusals := []struct {
		name      string
		err       error
		kind      error
		field     string
		msgPrefix string
	}{
		{"empty key", second(adm.RevokeIngestKey(ctx, a, " ")), admin.ErrInvalid, "key", "is required"},
		{"twin keys", second(adm.RevokeIngestKey(ctx, a, "twin")), admin.ErrInvalid, "key", `2 ingest keys are named "twin"; use the key id`},
		{"unknown key", second(adm.RevokeIngestKey(ctx, a, "nope")), admin.ErrNotFound, "key", `no ingest key "nope"`},
		{"unknown whole key", second(adm.RevokeIngestKey(ctx, a, "lbi_"+strings.Repeat("x", 40))), admin.ErrNotFound, "key", `no ingest key "lbi_xxxxxxxxxxxxxxxxxxxxxxxxxx…"`},
		{"other account's key", second(adm.RevokeIngestKey(ctx, a, foreign.ID)), admin.ErrNotFound, "key", "no ingest key"},
		{"empty token", second(adm.RevokeToken(ctx, a, "")), admin.ErrInvalid, "token", "is required"},
		{"pair tokens", second(adm.RevokeToken(ctx, a, "pair")), admin.ErrInvalid, "token", `2 tokens are named "pair"; use the token id`},
		{"unknown token", second(adm.RevokeToken(ctx, a, "nope")), admin.ErrNotFound, "token", `no token "nope"`},
		{"other account's token", second(adm.RevokeToken(ctx, other, tokID.ID)), admin.ErrNotFound, "token", "no token"},
	}
	for _, tc := range refusals {
		var ae *admin.Error
		if !errors.Is(tc.err, tc.kind) || admin.FieldOf(tc.err) != tc.field || !errors.As(tc.err, &ae) || !strings.HasPrefix(ae.Msg, tc.msgPrefix) {
			t.Errorf("%s: %v; want %v on %s starting %q", tc.name, tc.err, tc.kind, tc.field, tc.msgPrefix)
		}
	}
	if k, err := adm.IngestKeys(ctx, other); err != nil || len(k) != 1 || k[0].Status != admin.StatusActive {
		t.Errorf("the other account's key after the refusals: %+v, %v; want it active", k, err)
	}
}

func second[T any](_ T, err error) error { return err }
