package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/apikey"
	"github.com/logbookhq/logbook/internal/store"
)

// Ingest keys are apikey.Ingest keys: "lbi_" + a 26-character lower-case
// id + 43 characters of base64url secret, kept as a store.APIKey of kind
// "ingest". An ingest key opens only the ingestion endpoints of its
// account.

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
	return apikey.Ingest.Create(ctx, st, store.APIKey{AccountUUID: account, Name: name}, now)
}

// Authenticate returns the ingest key raw is, or ErrBadKey. Other errors
// are store failures.
func Authenticate(ctx context.Context, st store.KeyStore, raw string, now time.Time) (store.APIKey, error) {
	k, err := apikey.Ingest.Authenticate(ctx, st, raw, now)
	if errors.Is(err, apikey.ErrBadKey) {
		return store.APIKey{}, ErrBadKey
	}
	return k, err
}

// MarkUsed records that k, as Authenticate returned it, was used at now,
// unless its stored last use is less than a minute old (apikey.MarkUsed).
func MarkUsed(ctx context.Context, st store.KeyStore, k store.APIKey, now time.Time) error {
	return apikey.MarkUsed(ctx, st, k, now)
}
