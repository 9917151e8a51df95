package token_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/testenv"
	"github.com/logbookhq/logbook/internal/token"
)

func mustKEK(t testing.TB) *token.KEK {
	t.Helper()
	k, err := token.NewKEK()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestParseKEK: a KEK is 32 bytes in standard base64; anything else is
// refused with a reason that never repeats the text.
func TestParseKEK(t *testing.T) {
	k := mustKEK(t)
	text, _ := k.MarshalText()
	if len(text) != 44 {
		t.Fatalf("MarshalText = %d characters, want 44", len(text))
	}
	back, err := token.ParseKEK(" " + string(text) + "\n")
	if err != nil {
		t.Fatalf("ParseKEK(MarshalText with white space): %v", err)
	}
	if back.ID() != k.ID() {
		t.Errorf("ParseKEK(MarshalText).ID() = %s, want %s", back.ID(), k.ID())
	}
	if strings.Contains(k.String(), string(text)) || !strings.HasPrefix(k.String(), "kek:") {
		t.Errorf("String() = %q: want the id only", k.String())
	}
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	raw := base64.RawStdEncoding.EncodeToString(make([]byte, 32))
	url := strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16)))
	for name, tc := range map[string]struct{ text, want string }{
		"empty":        {"", "empty"},
		"blank":        {" \n", "empty"},
		"16 bytes":     {short, "16 bytes, want 32"},
		"no padding":   {raw, "not standard base64"},
		"url alphabet": {url, "not standard base64"},
		"hex":          {hex.EncodeToString(make([]byte, 32)), "48 bytes, want 32"},
		"two keys":     {string(text) + string(text), "not standard base64"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := token.ParseKEK(tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseKEK(%q) = %v, want an error saying %q", tc.text, err, tc.want)
			}
			if strings.TrimSpace(tc.text) != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.text)) {
				t.Errorf("error %q repeats the text", err)
			}
		})
	}
}

// TestSealOpen: an envelope opens with its KEK under its key id, and
// only so; plaintext passes through; every failure names the key.
func TestSealOpen(t *testing.T) {
	kek, other := mustKEK(t), mustKEK(t)
	der := []byte("\x30\x81 pretend DER of a signing key")
	sealed, err := kek.Seal("kid1", der)
	if err != nil {
		t.Fatal(err)
	}
	if !token.IsSealed(sealed) || bytes.Contains(sealed, der) {
		t.Fatalf("Seal = %x: want an envelope not holding the key", sealed)
	}
	again, _ := kek.Seal("kid1", der)
	if bytes.Equal(again, sealed) {
		t.Error("two seals of one key are equal: the nonce is not random")
	}
	got, err := token.OpenStored(kek, "kid1", sealed)
	if err != nil || !bytes.Equal(got, der) {
		t.Fatalf("OpenStored = %q, %v; want the DER", got, err)
	}
	if got, err := token.OpenStored(nil, "kid1", der); err != nil || !bytes.Equal(got, der) {
		t.Errorf("OpenStored(plaintext, no KEK) = %q, %v; want it as it is", got, err)
	}
	if got, err := token.OpenStored(kek, "kid1", der); err != nil || !bytes.Equal(got, der) {
		t.Errorf("OpenStored(plaintext, KEK) = %q, %v; want it as it is", got, err)
	}

	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	header := bytes.Clone(sealed)
	header[5] ^= 1 // the KEK id: looks like another KEK's
	v2 := bytes.Clone(sealed)
	v2[4] = 2
	for name, tc := range map[string]struct {
		kek    *token.KEK
		kid    string
		stored []byte
		is     error
		says   string
	}{
		"no KEK":       {nil, "kid1", sealed, token.ErrKEKNeeded, "signing key kid1 is encrypted at rest (with key-encryption key " + kek.ID() + ") and no key-encryption key was given"},
		"other KEK":    {other, "kid1", sealed, token.ErrKEKWrong, "signing key kid1 is encrypted with key-encryption key " + kek.ID() + ", not with the one given (" + other.ID() + ")"},
		"other key id": {kek, "kid2", sealed, token.ErrSealDamaged, "signing key kid2 does not decrypt"},
		"flipped bit":  {kek, "kid1", flipped, token.ErrSealDamaged, "signing key kid1 does not decrypt"},
		"edited id":    {kek, "kid1", header, token.ErrKEKWrong, "signing key kid1 is encrypted with"},
		"version 2":    {kek, "kid1", v2, nil, "envelope version 2 is not known"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := token.OpenStored(tc.kek, tc.kid, tc.stored)
			if err == nil {
				t.Fatalf("OpenStored = %q, nil; want an error", got)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("OpenStored error = %v, want %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("OpenStored error = %q, want it to say %q", err, tc.says)
			}
		})
	}
}

// TestOpenStoredGarbage: envelopes cut short or filled with noise are an
// error, never a panic, and never taken for a key.
func TestOpenStoredGarbage(t *testing.T) {
	kek := mustKEK(t)
	sealed, _ := kek.Seal("k", []byte("\x30 der"))
	for i := 0; i < len(sealed); i++ {
		if got, err := token.OpenStored(kek, "k", sealed[:i]); err == nil && token.IsSealed(sealed[:i]) {
			t.Errorf("OpenStored(first %d bytes) = %q, nil; want an error", i, got)
		}
	}
	noise := make([]byte, 200)
	for i := 0; i < 100; i++ {
		rand.Read(noise)
		copy(noise, "LBKE\x01")
		copy(noise[5:], sealed[5:13]) // this KEK's id: reach the decryption
		if _, err := token.OpenStored(kek, "k", noise[:13+i]); err == nil {
			t.Fatalf("OpenStored(noise of %d bytes) = nil error", 13+i)
		}
	}
}

// FuzzOpenStored: nothing stored makes OpenStored panic, and only what
// Seal wrote opens as sealed.
func FuzzOpenStored(f *testing.F) {
	kek, err := token.ParseKEK(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		f.Fatal(err)
	}
	sealed, _ := kek.Seal("kid", []byte("\x30der"))
	f.Add(sealed)
	f.Add(sealed[:20])
	f.Add([]byte("LBKE"))
	f.Add([]byte("LBKE\x02"))
	f.Add([]byte("\x30\x81\x87"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, stored []byte) {
		der, err := token.OpenStored(kek, "kid", stored)
		if err == nil && token.IsSealed(stored) && !bytes.Equal(der, []byte("\x30der")) {
			t.Fatalf("OpenStored(%x) opened to %x", stored, der)
		}
		_, _ = token.OpenStored(nil, "kid", stored)
	})
}

// kekStores are the two stores the KEK tests run on.
var kekStores = map[string]func(t *testing.T) store.Store{
	"sqlite": func(t *testing.T) store.Store {
		st := sqlitetest.New(t)
		return st
	},
	"postgres": func(t *testing.T) store.Store {
		st, err := postgres.Open(context.Background(), testenv.PostgresSchema(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	},
}

type kekBundle struct {
	st    store.Store
	acct  string
	integ string
	now   func() time.Time
}

func kekSetup(t *testing.T, open func(*testing.T) store.Store) *kekBundle {
	t.Helper()
	st := open(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Second)
	b := &kekBundle{st: st, acct: events.NewID(), integ: events.NewID(), now: func() time.Time { return now }}
	if err := st.CreateAccount(ctx, store.Account{UUID: b.acct, Name: "A", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateIntegration(ctx, store.Integration{UUID: b.integ, AccountUUID: b.acct, Name: "I", SIEM: "Other", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return b
}

// service is a fresh token service, as a new process would make: no key
// cached.
func (b *kekBundle) service(kek *token.KEK, log *slog.Logger) *token.Service {
	return token.New(b.st, "127.0.0.1:8080", token.Config{Now: b.now, KEK: kek, Logger: log})
}

func (b *kekBundle) issue(t *testing.T, svc *token.Service) string {
	t.Helper()
	raw, _, err := svc.Issue(t.Context(), token.IssueRequest{AccountUUID: b.acct, IntegrationUUID: b.integ, Name: "t",
		Features: []events.Feature{events.AuditEvents}})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (b *kekBundle) keys(t *testing.T) []store.SigningKey {
	t.Helper()
	ks, err := b.st.SigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// TestKEKStore: on both stores, plaintext keys are encrypted in place
// when a KEK is first given (and logged), tokens signed before still
// verify, rotation seals new keys, and a missing or wrong KEK is refused
// with an error naming the key while the store stays as it was.
func TestKEKStore(t *testing.T) {
	for name, open := range kekStores {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			b := kekSetup(t, open)

			// Before: two plaintext keys, a token from each.
			plain := b.service(nil, nil)
			if err := plain.EnsureKey(ctx); err != nil {
				t.Fatal(err)
			}
			tokOld := b.issue(t, plain)
			if _, err := plain.RotateKey(ctx); err != nil {
				t.Fatal(err)
			}
			tokNew := b.issue(t, plain)
			before := b.keys(t)
			if len(before) != 2 || token.IsSealed(before[0].Private) || token.IsSealed(before[1].Private) {
				t.Fatalf("keys before a KEK: %d, want 2 in plaintext", len(before))
			}

			// A KEK is given: both are sealed in place, and logged.
			kek := mustKEK(t)
			var logs bytes.Buffer
			sealing := b.service(kek, slog.New(slog.NewTextHandler(&logs, nil)))
			if err := sealing.EnsureKey(ctx); err != nil {
				t.Fatalf("EnsureKey with a KEK over plaintext keys: %v", err)
			}
			after := b.keys(t)
			for i, k := range after {
				if !token.IsSealed(k.Private) {
					t.Errorf("key %s still in plaintext after EnsureKey with a KEK", k.ID)
				}
				if k.ID != before[i].ID || k.Active != before[i].Active || !k.CreatedAt.Equal(before[i].CreatedAt) {
					t.Errorf("key %d = %s/%v, was %s/%v: only its bytes may change", i, k.ID, k.Active, before[i].ID, before[i].Active)
				}
				if want := `signing key encrypted at rest" kid=` + k.ID + " kek=" + kek.ID(); !strings.Contains(logs.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, logs.String())
				}
			}
			if n := strings.Count(logs.String(), "encrypted at rest"); n != 2 {
				t.Errorf("%d lines about encryption, want 2:\n%s", n, logs.String())
			}

			// A new process with the KEK verifies the tokens of before,
			// issues, and rotates to a sealed key; a second start changes
			// nothing.
			fresh := b.service(kek, nil)
			if err := fresh.EnsureKey(ctx); err != nil {
				t.Fatal(err)
			}
			if got := b.keys(t); !cmp.Equal(got, after) {
				t.Errorf("a second EnsureKey with the KEK changed the keys")
			}
			for _, raw := range []string{tokOld, tokNew, b.issue(t, fresh)} {
				if _, err := b.service(kek, nil).Verify(ctx, raw); err != nil {
					t.Errorf("Verify with the KEK: %v", err)
				}
			}
			rotated, err := fresh.RotateKey(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !token.IsSealed(rotated.Private) {
				t.Error("RotateKey with a KEK stored the key in plaintext")
			}
			tokRotated := b.issue(t, fresh)
			if _, err := b.service(kek, nil).Verify(ctx, tokRotated); err != nil {
				t.Errorf("Verify of a token of the rotated key: %v", err)
			}

			// A plaintext key made later (a CLI run without the KEK) sits
			// beside the sealed ones; a wrong or missing KEK is refused
			// before anything is changed, naming the first sealed key.
			if _, err := b.service(nil, nil).RotateKey(ctx); err != nil {
				t.Fatal(err)
			}
			stored := b.keys(t)
			// The keys share a creation time, so they are listed by id:
			// the error names the first sealed one in that order.
			var firstSealed string
			for _, k := range stored {
				if token.IsSealed(k.Private) {
					firstSealed = k.ID
					break
				}
			}
			for name, tc := range map[string]struct {
				kek  *token.KEK
				is   error
				says string
			}{
				"no KEK":    {nil, token.ErrKEKNeeded, "signing key " + firstSealed + " is encrypted at rest"},
				"wrong KEK": {mustKEK(t), token.ErrKEKWrong, "signing key " + firstSealed + " is encrypted with"},
			} {
				t.Run(name, func(t *testing.T) {
					err := b.service(tc.kek, nil).EnsureKey(ctx)
					if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.says) {
						t.Fatalf("EnsureKey = %v, want %v saying %q", err, tc.is, tc.says)
					}
					if diff := cmp.Diff(stored, b.keys(t)); diff != "" {
						t.Errorf("a refused EnsureKey changed the keys (-before +after):\n%s", diff)
					}
					if _, err := b.service(tc.kek, nil).Verify(ctx, tokOld); err == nil {
						t.Error("Verify of a token of a sealed key without its KEK = nil error")
					}
				})
			}
			// The right KEK seals the late plaintext key too.
			if err := b.service(kek, nil).EnsureKey(ctx); err != nil {
				t.Fatal(err)
			}
			for _, k := range b.keys(t) {
				if !token.IsSealed(k.Private) {
					t.Errorf("key %s in plaintext after EnsureKey with the KEK", k.ID)
				}
			}
		})
	}
}

// racingStore runs other once, just before the first
// ReplaceSigningKeyPrivate, as another server starting at the same moment
// would.
type racingStore struct {
	store.Store
	other func()
}

func (r *racingStore) ReplaceSigningKeyPrivate(ctx context.Context, id string, old, new []byte) error {
	if f := r.other; f != nil {
		r.other = nil
		f()
	}
	return r.Store.ReplaceSigningKeyPrivate(ctx, id, old, new)
}

// TestKEKRace: two servers encrypting the same plaintext keys at once do
// not overwrite each other: the one that finds a key already encrypted
// checks it opens with its own KEK, and refuses to start if it does not.
func TestKEKRace(t *testing.T) {
	for name, open := range kekStores {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			b := kekSetup(t, open)
			if err := b.service(nil, nil).EnsureKey(ctx); err != nil {
				t.Fatal(err)
			}
			tok := b.issue(t, b.service(nil, nil))
			kek := mustKEK(t)

			// The other server has the same KEK: both start.
			rs := &racingStore{Store: b.st, other: func() {
				if err := b.service(kek, nil).EnsureKey(ctx); err != nil {
					t.Errorf("the other server: %v", err)
				}
			}}
			var logs bytes.Buffer
			svc := token.New(rs, "127.0.0.1:8080", token.Config{Now: b.now, KEK: kek, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err := svc.EnsureKey(ctx); err != nil {
				t.Fatalf("EnsureKey racing a server with the same KEK: %v", err)
			}
			if rs.other != nil {
				t.Fatal("the race did not happen")
			}
			sealed := b.keys(t)
			if !token.IsSealed(sealed[0].Private) {
				t.Fatal("key in plaintext after both servers started")
			}
			if strings.Contains(logs.String(), "encrypted at rest") {
				t.Errorf("the server that lost the race logged an encryption it did not make:\n%s", logs.String())
			}
			if _, err := b.service(kek, nil).Verify(ctx, tok); err != nil {
				t.Errorf("Verify after the race: %v", err)
			}

			// The other server had another KEK: this one refuses.
			b2 := kekSetup(t, open)
			if err := b2.service(nil, nil).EnsureKey(ctx); err != nil {
				t.Fatal(err)
			}
			rs = &racingStore{Store: b2.st, other: func() {
				if err := b2.service(mustKEK(t), nil).EnsureKey(ctx); err != nil {
					t.Errorf("the other server: %v", err)
				}
			}}
			err := token.New(rs, "127.0.0.1:8080", token.Config{Now: b2.now, KEK: kek}).EnsureKey(ctx)
			if !errors.Is(err, token.ErrKEKWrong) {
				t.Errorf("EnsureKey racing a server with another KEK = %v, want %v", err, token.ErrKEKWrong)
			}
		})
	}
}
