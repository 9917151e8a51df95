package apikey_test

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/apikey"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

type bundle struct {
	st      *sqlite.DB
	account string
}

func setup(t *testing.T) bundle {
	t.Helper()
	st := sqlitetest.New(t)
	b := bundle{st: st, account: events.NewID()}
	if err := st.CreateAccount(t.Context(), store.Account{UUID: b.account, Name: "A", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	return b
}

// create makes a key of kind in b's store at now, failing t on an error.
func (b bundle) create(t *testing.T, kind apikey.Kind, rec store.APIKey, now time.Time) (string, store.APIKey) {
	t.Helper()
	raw, rec, err := kind.Create(t.Context(), b.st, rec, now)
	if err != nil {
		t.Fatal(err)
	}
	return raw, rec
}

// TestOldKeysStillAuthenticate: keys made before this package existed (by
// admin/keys.go and ingest/keys.go) are in databases and in people's
// pipelines. A fixed secret and the SHA-256 that code stored for it must
// keep authenticating, as the kind it was made as and no other.
func TestOldKeysStillAuthenticate(t *testing.T) {
	const (
		id     = "oldkeyoldkeyoldkeyoldkey22"
		secret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8" // bytes 0..31, base64url
	)
	for _, tc := range []struct {
		kind, other apikey.Kind
		hash        string // sha256sum of the whole key, computed outside Go
	}{
		{apikey.Ingest, apikey.Admin, "297e0d618a7e4dcdc6e765f9a5b0c03d838125dd95b8e9a88a4c2be04630e9e9"},
		{apikey.Admin, apikey.Ingest, "1020979165e5c0f9bd67c1368b55fc18438bf891d320f224f41c8283f62e2b1a"},
	} {
		t.Run(tc.kind.Name, func(t *testing.T) {
			b := setup(t)
			sum, _ := hex.DecodeString(tc.hash)
			rec := store.APIKey{ID: id, Kind: tc.kind.Name, AccountUUID: b.account, Name: "old", Hash: sum, CreatedAt: t0}
			if err := b.st.CreateAPIKey(t.Context(), rec); err != nil {
				t.Fatal(err)
			}
			raw := tc.kind.Prefix + id + secret
			got, err := tc.kind.Authenticate(t.Context(), b.st, raw, t0.Add(time.Hour))
			if err != nil {
				t.Fatalf("Authenticate(old %s key) = %v", tc.kind.Name, err)
			}
			if got.ID != id || got.AccountUUID != b.account {
				t.Errorf("Authenticate(old key) = %+v, want id %s of account %s", got, id, b.account)
			}
			if _, err := tc.other.Authenticate(t.Context(), b.st, tc.other.Prefix+id+secret, t0); !errors.Is(err, apikey.ErrBadKey) {
				t.Errorf("Authenticate as %s = %v, want ErrBadKey", tc.other.Name, err)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	b := setup(t)
	user := events.NewID()
	raw, rec := b.create(t, apikey.Admin, store.APIKey{AccountUUID: b.account, UserUUID: user, Name: "ci"}, t0.In(time.FixedZone("X", 3600)))
	if len(raw) != apikey.Admin.Len() || !strings.HasPrefix(raw, "lba_"+rec.ID) || len(raw) != 4+26+43 {
		t.Errorf("key %q: want lba_ + id %s + 43 characters", raw, rec.ID)
	}
	if !events.ValidLowerID(rec.ID) {
		t.Errorf("id %q is not a lower-case id", rec.ID)
	}
	stored, err := b.st.APIKey(t.Context(), rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := store.APIKey{ID: rec.ID, Kind: "admin", AccountUUID: b.account, UserUUID: user, Name: "ci", Hash: apikey.Hash(raw), CreatedAt: t0}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("stored key (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("returned key (-want +got):\n%s", diff)
	}
	if strings.Contains(string(stored.Hash), raw[4+26:]) {
		t.Error("the store holds the secret")
	}
	raw2, _ := b.create(t, apikey.Admin, store.APIKey{AccountUUID: b.account, UserUUID: user, Name: "ci"}, t0)
	if raw2[30:] == raw[30:] {
		t.Error("two keys share a secret")
	}
}

func TestCreateStoreError(t *testing.T) {
	b := setup(t)
	// No such account: the store refuses the key.
	_, _, err := apikey.Ingest.Create(t.Context(), b.st, store.APIKey{AccountUUID: events.NewID(), Name: "x"}, t0)
	if err == nil || !strings.HasPrefix(err.Error(), "create ingest key: ") {
		t.Errorf("Create for a missing account = %v, want a create ingest key error", err)
	}
}

func TestAuthenticateRefuses(t *testing.T) {
	b := setup(t)
	raw, rec := b.create(t, apikey.Ingest, store.APIKey{AccountUUID: b.account, Name: "k"}, t0)
	revokedRaw, revoked := b.create(t, apikey.Ingest, store.APIKey{AccountUUID: b.account, Name: "r"}, t0)
	revoked.RevokedAt = t0.Add(time.Hour)
	if err := b.st.UpdateAPIKey(t.Context(), revoked); err != nil {
		t.Fatal(err)
	}
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	for _, tc := range []struct {
		name string
		raw  string
		at   time.Time
	}{
		{"empty", "", t0},
		{"short", raw[:len(raw)-1], t0},
		{"long", raw + "A", t0},
		{"admin prefix", "lba_" + raw[4:], t0},
		{"upper-case id", "lbi_" + strings.ToUpper(rec.ID) + raw[30:], t0},
		{"unknown id", "lbi_" + events.NewLowerID() + raw[30:], t0},
		{"wrong secret", flip(raw, len(raw)-2), t0},
		{"revoked", revokedRaw, t0.Add(time.Hour)},
		{"long revoked", revokedRaw, t0.Add(48 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if k, err := apikey.Ingest.Authenticate(t.Context(), b.st, tc.raw, tc.at); !errors.Is(err, apikey.ErrBadKey) {
				t.Errorf("Authenticate = %+v, %v; want ErrBadKey", k, err)
			}
		})
	}
	// Revocation takes effect at its time, not before.
	if _, err := apikey.Ingest.Authenticate(t.Context(), b.st, revokedRaw, t0.Add(time.Hour-time.Second)); err != nil {
		t.Errorf("Authenticate before the revocation = %v", err)
	}
	if _, err := apikey.Ingest.Authenticate(t.Context(), b.st, raw, t0); err != nil {
		t.Errorf("Authenticate(good key) = %v", err)
	}
}

func TestAuthenticateStoreError(t *testing.T) {
	b := setup(t)
	raw, _ := b.create(t, apikey.Admin, store.APIKey{AccountUUID: b.account, Name: "k"}, t0)
	b.st.Close()
	_, err := apikey.Admin.Authenticate(t.Context(), b.st, raw, t0)
	if err == nil || errors.Is(err, apikey.ErrBadKey) || !strings.HasPrefix(err.Error(), "look up admin key: ") {
		t.Errorf("Authenticate on a closed store = %v, want a look up admin key error that is not ErrBadKey", err)
	}
}

func TestMarkUsed(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	raw, _, err := apikey.Ingest.Create(ctx, b.st, store.APIKey{AccountUUID: b.account, Name: "k"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	use := func(at time.Time) time.Time {
		t.Helper()
		k, err := apikey.Ingest.Authenticate(ctx, b.st, raw, at)
		if err != nil {
			t.Fatal(err)
		}
		if err := apikey.MarkUsed(ctx, b.st, k, at); err != nil {
			t.Fatal(err)
		}
		stored, err := b.st.APIKey(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		return stored.LastUsedAt
	}
	first := t0.Add(time.Hour)
	if got := use(first); !got.Equal(first) {
		t.Errorf("last use after first use = %v, want %v", got, first)
	}
	if got := use(first.Add(59 * time.Second)); !got.Equal(first) {
		t.Errorf("last use 59 s later = %v, want it kept at %v (one write a minute)", got, first)
	}
	later := first.Add(time.Minute)
	if got := use(later); !got.Equal(later) {
		t.Errorf("last use a minute later = %v, want %v", got, later)
	}
	b.st.Close()
	k := store.APIKey{ID: "gonegonegonegonegonegone22", Kind: "ingest"}
	if err := apikey.MarkUsed(ctx, b.st, k, later.Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "record last use of ingest key gonegone") {
		t.Errorf("MarkUsed on a closed store = %v, want its error", err)
	}
}

func TestID(t *testing.T) {
	id := events.NewLowerID()
	for _, tc := range []struct{ ref, want string }{
		{"lbi_" + id, id},
		{"lbi_" + id + "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", id},
		{id, id},
		{"lbi_short", "lbi_short"},
		{"lba_" + id, "lba_" + id},
		{"name", "name"},
	} {
		if got := apikey.Ingest.ID(tc.ref); got != tc.want {
			t.Errorf("ID(%q) = %q, want %q", tc.ref, got, tc.want)
		}
	}
}
