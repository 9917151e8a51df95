package ingest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// Ingest keys look like "lbi_" + a 26-character lower-case id + 43
// characters of base64url secret (32 random bytes). The store keeps the
// SHA-256 of the whole string as a store.APIKey of kind "ingest", found by
// the id and compared in constant time. An ingest key opens only the
// ingestion endpoints of its account.
const (
	KeyKind   = "ingest"
	keyPrefix = "lbi_"
	keyLen    = len(keyPrefix) + events.IDLen + 43
)

// KeyPrefix is how every ingest key begins; KeyPrefix + a key's id is how
// lists show it, enough to tell which key a leaked string is.
const KeyPrefix = keyPrefix

// ErrBadKey is returned for a missing, malformed, unknown, revoked or
// foreign key; callers answer 401 whatever the cause.
var ErrBadKey = errors.New("ingest key is missing, unknown or revoked")

// CreateKey makes an ingest key for account and returns the secret, to be
// shown once, and what is stored.
func CreateKey(ctx context.Context, st store.KeyStore, account, name string, now time.Time) (string, store.APIKey, error) {
	name = strings.TrimSpace(name)
	switch {
	case !events.ValidUpperID(account):
		return "", store.APIKey{}, fmt.Errorf("account: %q is not an account uuid", account)
	case name == "":
		return "", store.APIKey{}, errors.New("name: is required")
	case len(name) > 100:
		return "", store.APIKey{}, errors.New("name: is longer than 100 bytes")
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", store.APIKey{}, fmt.Errorf("ingest key secret: %w", err)
	}
	id := events.NewLowerID()
	raw := keyPrefix + id + base64.RawURLEncoding.EncodeToString(secret)
	sum := sha256.Sum256([]byte(raw))
	k := store.APIKey{ID: id, Kind: KeyKind, AccountUUID: account, Name: name, Hash: sum[:], CreatedAt: now.UTC()}
	if err := st.CreateAPIKey(ctx, k); err != nil {
		return "", store.APIKey{}, fmt.Errorf("create ingest key: %w", err)
	}
	return raw, k, nil
}

// Authenticate returns the ingest key raw is, or an error wrapping
// ErrBadKey. Other errors are store failures.
func Authenticate(ctx context.Context, st store.KeyStore, raw string, now time.Time) (store.APIKey, error) {
	if len(raw) != keyLen || !strings.HasPrefix(raw, keyPrefix) {
		return store.APIKey{}, ErrBadKey
	}
	id := raw[len(keyPrefix) : len(keyPrefix)+events.IDLen]
	if !events.ValidLowerID(id) {
		return store.APIKey{}, ErrBadKey
	}
	k, err := st.APIKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.APIKey{}, ErrBadKey
	}
	if err != nil {
		return store.APIKey{}, fmt.Errorf("look up ingest key: %w", err)
	}
	sum := sha256.Sum256([]byte(raw))
	if subtle.ConstantTimeCompare(k.Hash, sum[:]) != 1 || k.Kind != KeyKind {
		return store.APIKey{}, ErrBadKey
	}
	if !k.RevokedAt.IsZero() && !now.Before(k.RevokedAt) {
		return store.APIKey{}, ErrBadKey
	}
	return k, nil
}

// usedEvery bounds how often a key's last use is written: a pipeline
// posting several batches a second costs one write a minute.
const usedEvery = time.Minute

// MarkUsed records that k, as Authenticate returned it, was used at now,
// unless its stored last use is less than a minute old. Authenticate reads
// the key afresh on every request, so the stored time is the bound on every
// server sharing the store.
func MarkUsed(ctx context.Context, st store.KeyStore, k store.APIKey, now time.Time) error {
	if now.Sub(k.LastUsedAt) < usedEvery {
		return nil
	}
	if err := st.TouchAPIKey(ctx, k.ID, now.UTC()); err != nil {
		return fmt.Errorf("record last use of ingest key %s: %w", k.ID, err)
	}
	return nil
}
