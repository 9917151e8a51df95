// Package apikey is the one implementation of Logbook's API keys: admin
// keys ("lba_…") and ingest keys ("lbi_…"). It makes a key's secret,
// stores only its SHA-256, and checks a presented key against the store in
// constant time, refusing revoked keys and keys of another kind.
//
// A key is Prefix + a 26-character lower-case id + 43 characters of
// base64url secret (32 random bytes). The store keeps the SHA-256 of the
// whole string as a store.APIKey, found by the id. That format is fixed:
// keys already handed out must keep working.
package apikey

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

// secretLen is the length of a key's secret part: 32 bytes, base64url
// without padding.
const secretLen = 43

// A Kind is one family of keys: how its keys begin and the store.APIKey
// Kind they are kept under.
type Kind struct {
	Prefix string
	Name   string
}

// The kinds of key Logbook issues.
var (
	// Admin keys act as a user on the admin API (internal/admin).
	Admin = Kind{Prefix: "lba_", Name: "admin"}
	// Ingest keys open the ingestion endpoints of one account
	// (internal/ingest).
	Ingest = Kind{Prefix: "lbi_", Name: "ingest"}
)

// Len is the length of every key of kind k.
func (k Kind) Len() int { return len(k.Prefix) + events.IDLen + secretLen }

// ErrBadKey is returned by Authenticate for a malformed, unknown, revoked
// or other-kind key. Callers answer it as "unauthenticated", whatever the
// cause, so as to tell a guesser nothing.
var ErrBadKey = errors.New("API key is malformed, unknown or revoked")

// Store is what keys need of the store; store.KeyStore has it.
type Store interface {
	CreateAPIKey(ctx context.Context, k store.APIKey) error
	APIKey(ctx context.Context, id string) (store.APIKey, error)
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

// Hash is what the store keeps of the key raw: its SHA-256.
func Hash(raw string) []byte {
	sum := sha256.Sum256([]byte(raw))
	return sum[:]
}

// Create makes a key of kind k from rec, whose AccountUUID, UserUUID and
// Name the caller sets; Create sets its ID, Kind, Hash and CreatedAt (now)
// and stores it. It returns the secret key, to be shown once, and what was
// stored.
func (k Kind) Create(ctx context.Context, st Store, rec store.APIKey, now time.Time) (string, store.APIKey, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", store.APIKey{}, fmt.Errorf("%s key secret: %w", k.Name, err)
	}
	rec.ID = events.NewLowerID()
	raw := k.Prefix + rec.ID + base64.RawURLEncoding.EncodeToString(secret)
	rec.Kind, rec.Hash, rec.CreatedAt = k.Name, Hash(raw), now.UTC()
	if err := st.CreateAPIKey(ctx, rec); err != nil {
		return "", store.APIKey{}, fmt.Errorf("create %s key: %w", k.Name, err)
	}
	return raw, rec, nil
}

// Authenticate returns the stored key raw is, if it is a key of kind k,
// matches its stored hash (compared in constant time) and is not revoked
// at now. Otherwise it returns ErrBadKey, or a wrapped store error when the
// store could not answer.
func (k Kind) Authenticate(ctx context.Context, st Store, raw string, now time.Time) (store.APIKey, error) {
	if len(raw) != k.Len() || !strings.HasPrefix(raw, k.Prefix) {
		return store.APIKey{}, ErrBadKey
	}
	id := raw[len(k.Prefix) : len(k.Prefix)+events.IDLen]
	if !events.ValidLowerID(id) {
		return store.APIKey{}, ErrBadKey
	}
	rec, err := st.APIKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.APIKey{}, ErrBadKey
	}
	if err != nil {
		return store.APIKey{}, fmt.Errorf("look up %s key: %w", k.Name, err)
	}
	if subtle.ConstantTimeCompare(rec.Hash, Hash(raw)) != 1 || rec.Kind != k.Name {
		return store.APIKey{}, ErrBadKey
	}
	if Revoked(rec, now) {
		return store.APIKey{}, ErrBadKey
	}
	return rec, nil
}

// Revoked reports whether rec is revoked at now.
func Revoked(rec store.APIKey, now time.Time) bool {
	return !rec.RevokedAt.IsZero() && !now.Before(rec.RevokedAt)
}

// ID returns the key id that ref names when ref is a key of kind k as
// lists show it (Prefix + id) or a whole key; otherwise ref itself.
func (k Kind) ID(ref string) string {
	if rest, ok := strings.CutPrefix(ref, k.Prefix); ok && len(rest) >= events.IDLen {
		return rest[:events.IDLen]
	}
	return ref
}

// usedEvery bounds how often a key's last use is written: a client
// calling several times a second costs one write a minute.
const usedEvery = time.Minute

// MarkUsed records that rec, as Authenticate returned it, was used at now,
// unless its stored last use is less than a minute old. Authenticate reads
// the key afresh on every request, so the stored time is the bound on every
// server sharing the store.
func MarkUsed(ctx context.Context, st Store, rec store.APIKey, now time.Time) error {
	if now.Sub(rec.LastUsedAt) < usedEvery {
		return nil
	}
	if err := st.TouchAPIKey(ctx, rec.ID, now.UTC()); err != nil {
		return fmt.Errorf("record last use of %s key %s: %w", rec.Kind, rec.ID, err)
	}
	return nil
}
