package token_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/testenv"
	"github.com/logbookhq/logbook/internal/token"
)

type bundle struct {
	st    *sqlite.DB
	svc   *token.Service
	clock *testenv.Clock
	acct  string
	integ string
}

func setup(t testing.TB) *bundle {
	t.Helper()
	ctx := context.Background()
	st := sqlitetest.New(t)
	c := testenv.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	b := &bundle{st: st, clock: c, acct: events.NewID(), integ: events.NewID()}
	b.svc = token.New(st, "127.0.0.1:8080", token.Config{Now: c.Now})
	if err := st.CreateAccount(ctx, store.Account{UUID: b.acct, Name: "A", CreatedAt: c.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateIntegration(ctx, store.Integration{UUID: b.integ, AccountUUID: b.acct, Name: "I", SIEM: "Other", CreatedAt: c.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := b.svc.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *bundle) issue(t testing.TB, exp time.Duration, fs ...events.Feature) (string, store.Token) {
	t.Helper()
	raw, tok, err := b.svc.Issue(context.Background(), token.IssueRequest{AccountUUID: b.acct, IntegrationUUID: b.integ, Name: "t", Features: fs, ExpiresIn: exp})
	if err != nil {
		t.Fatal(err)
	}
	return raw, tok
}

func segments(t testing.TB, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

func TestIssueShape(t *testing.T) {
	b := setup(t)
	raw, tok := b.issue(t, 30*24*time.Hour, events.SignInAttempts, events.AuditEvents)
	header, claims := segments(t, raw)
	if header["alg"] != "ES256" || header["typ"] != "JWT" || header["kid"] != tok.KeyID || len(header) != 3 {
		t.Errorf("header = %v", header)
	}
	aud, _ := claims["aud"].([]any)
	if len(aud) != 1 || aud[0] != "127.0.0.1:8080" {
		t.Errorf("aud = %v, want [127.0.0.1:8080]", claims["aud"])
	}
	fts, _ := claims["1password.com/fts"].([]any)
	if len(fts) != 2 || fts[0] != "auditevents" || fts[1] != "signinattempts" {
		t.Errorf("fts = %v", fts)
	}
	if claims["sub"] != b.integ || claims["1password.com/auuid"] != b.acct || claims["iss"] != "com.1password.b5" || claims["jti"] != tok.ID {
		t.Errorf("claims = %v", claims)
	}
	if int64(claims["exp"].(float64)) != b.clock.Now().Add(30*24*time.Hour).Unix() {
		t.Errorf("exp = %v", claims["exp"])
	}
	if _, ok := claims["exp"]; !ok {
		t.Error("no exp")
	}
	raw, _ = b.issue(t, 0, events.ItemUsages)
	if _, claims = segments(t, raw); claims["exp"] != nil {
		t.Errorf("never-expiring token has exp %v", claims["exp"])
	}
	// The store keeps the hash, never the token.
	got, err := b.st.Token(context.Background(), tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Hash) == raw || len(got.Hash) != 32 {
		t.Errorf("stored hash = %x", got.Hash)
	}
}

// TestPayloadAtobSafe: the Splunk setup page decodes the payload with
// atob, so its base64url form must hold no '-' or '_'.
func TestPayloadAtobSafe(t *testing.T) {
	b := setup(t)
	for range 200 {
		raw, _ := b.issue(t, 0, events.AllFeatures...)
		if p := strings.Split(raw, ".")[1]; strings.ContainsAny(p, "-_") {
			t.Fatalf("payload %s has - or _", p)
		}
	}
}

func TestVerify(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	raw, tok := b.issue(t, time.Hour, events.ItemUsages)
	v, err := b.svc.Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Has(events.ItemUsages) || v.Has(events.AuditEvents) || v.Token.ID != tok.ID {
		t.Errorf("Verified = %+v", v)
	}

	parts := strings.Split(raw, ".")
	forge := func(header string, sig string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + parts[1] + "." + sig
	}
	mac := hmac.New(sha256.New, []byte("secret"))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	hs := base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	other := token.New(b.st, "events.example.com", token.Config{Now: b.clock.Now})

	for name, tc := range map[string]struct {
		raw  string
		svc  *token.Service
		want error
	}{
		"alg none":         {forge(`{"alg":"none","typ":"JWT"}`, ""), b.svc, token.ErrMalformed},
		"alg HS256":        {forge(`{"alg":"HS256","kid":"`+tok.KeyID+`","typ":"JWT"}`, hs), b.svc, token.ErrMalformed},
		"bad signature":    {parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])), b.svc, token.ErrSignature},
		"unknown kid":      {forge(`{"alg":"ES256","kid":"nosuchkey","typ":"JWT"}`, parts[2]), b.svc, token.ErrSignature},
		"other audience":   {raw, other, token.ErrAudience},
		"not a JWT":        {"hello", b.svc, token.ErrMalformed},
		"empty":            {"", b.svc, token.ErrMalformed},
		"swapped payload":  {parts[0] + "." + strings.Split(b.mustIssue(t), ".")[1] + "." + parts[2], b.svc, token.ErrSignature},
		"two dots missing": {parts[0] + parts[1] + parts[2], b.svc, token.ErrMalformed},
	} {
		_, err := tc.svc.Verify(ctx, tc.raw)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify = %v, want %v", name, err, tc.want)
		}
	}

	// Revocation takes effect on the next call, even though the signature
	// was cached.
	tok.RevokedAt = b.clock.Now()
	if err := b.st.UpdateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Verify(ctx, raw); !errors.Is(err, token.ErrRevoked) {
		t.Errorf("revoked: Verify = %v", err)
	}

	raw2, _ := b.issue(t, time.Hour, events.ItemUsages)
	if _, err := b.svc.Verify(ctx, raw2); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(time.Hour)
	if _, err := b.svc.Verify(ctx, raw2); !errors.Is(err, token.ErrExpired) {
		t.Errorf("expired: Verify = %v", err)
	}
}

func (b *bundle) mustIssue(t testing.TB) string {
	raw, _ := b.issue(t, 0, events.AuditEvents)
	return raw
}

func TestRotate(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	old, oldTok := b.issue(t, 0, events.AuditEvents)
	k, err := b.svc.RotateKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fresh, freshTok := b.issue(t, 0, events.AuditEvents)
	if freshTok.KeyID != k.ID || oldTok.KeyID == k.ID {
		t.Errorf("key ids: old %s, new %s, rotated %s", oldTok.KeyID, freshTok.KeyID, k.ID)
	}
	// A second service on the same store (another server) verifies both.
	peer := token.New(b.st, "127.0.0.1:8080", token.Config{Now: b.clock.Now})
	for _, raw := range []string{old, fresh} {
		for _, svc := range []*token.Service{b.svc, peer} {
			if _, err := svc.Verify(ctx, raw); err != nil {
				t.Errorf("Verify after rotation: %v", err)
			}
		}
	}
	keys, _ := b.st.SigningKeys(ctx)
	active := 0
	for _, k := range keys {
		if k.Active {
			active++
		}
	}
	if len(keys) != 2 || active != 1 {
		t.Errorf("%d keys, %d active; want 2, 1", len(keys), active)
	}
}

func TestIssueRefuses(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	for name, r := range map[string]token.IssueRequest{
		"no features":     {AccountUUID: b.acct, IntegrationUUID: b.integ},
		"unknown feature": {AccountUUID: b.acct, IntegrationUUID: b.integ, Features: []events.Feature{"vaultaccess"}},
		"negative expiry": {AccountUUID: b.acct, IntegrationUUID: b.integ, Features: events.AllFeatures, ExpiresIn: -time.Hour},
	} {
		if _, _, err := b.svc.Issue(ctx, r); err == nil {
			t.Errorf("%s: Issue accepted", name)
		}
	}
}

func TestParseExpiry(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"never": 0, "": 0, "30d": 30 * 24 * time.Hour, "90d": 90 * 24 * time.Hour, "180d": 180 * 24 * time.Hour,
		"12h": 12 * time.Hour, "1w2d": 9 * 24 * time.Hour, "90s": 90 * time.Second, "5m": 5 * time.Minute,
	} {
		got, err := token.ParseExpiry(in)
		if err != nil || got != want {
			t.Errorf("ParseExpiry(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"30", "d", "-1d", "3y", "1.5d", "0d", "forever", "99999999d"} {
		if _, err := token.ParseExpiry(bad); err == nil {
			t.Errorf("ParseExpiry(%q) accepted", bad)
		}
	}
}

func FuzzVerify(f *testing.F) {
	b := setup(f)
	good := b.mustIssue(f)
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := b.svc.Verify(context.Background(), raw)
		if err == nil && raw != good {
			t.Fatalf("Verify accepted a token it did not issue: %q (%+v)", raw, v)
		}
	})
}

func TestMarkUsed(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	raw, tok := b.issue(t, 0, events.AuditEvents)
	used := func() time.Time {
		got, err := b.st.Token(ctx, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.LastUsedAt
	}
	v, err := b.svc.Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	first := b.clock.Now()
	if err := b.svc.MarkUsed(ctx, v); err != nil {
		t.Fatal(err)
	}
	if got := used(); !got.Equal(first) {
		t.Fatalf("LastUsedAt = %v, want %v", got, first)
	}
	b.clock.Advance(30 * time.Second)
	_ = b.svc.MarkUsed(ctx, v)
	if got := used(); !got.Equal(first) {
		t.Errorf("written again within a minute: %v", got)
	}
	b.clock.Advance(31 * time.Second)
	_ = b.svc.MarkUsed(ctx, v)
	if got := used(); !got.Equal(b.clock.Now()) {
		t.Errorf("LastUsedAt = %v after a minute, want %v", got, b.clock.Now())
	}
}
