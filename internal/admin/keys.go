package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/logbookhq/logbook/internal/apikey"
	"github.com/logbookhq/logbook/internal/store"
)

// SigningKeys lists the server's token-signing keys. Keys are server-wide;
// owners and administrators of any account may see them.
func (s *Service) SigningKeys(ctx context.Context, a Actor) ([]SigningKey, error) {
	if err := a.mustManage("manage signing keys"); err != nil {
		return nil, err
	}
	return s.ServerSigningKeys(ctx)
}

// RotateKey makes a new active signing key; older keys keep verifying the
// tokens they signed until those expire or are revoked.
func (s *Service) RotateKey(ctx context.Context, a Actor) (SigningKey, error) {
	if err := a.mustManage("manage signing keys"); err != nil {
		return SigningKey{}, err
	}
	return s.rotateKey(ctx, a.User.UUID)
}

// Admin API keys are apikey.Admin keys: "lba_" + a 26-character
// lower-case id + 43 characters of base64url secret, kept as a
// store.APIKey of kind "admin" with the user they act as.

// NewAPIKey is a newly made admin API key: Secret is shown once.
type NewAPIKey struct {
	APIKey
	Secret string `json:"key"`
}

// CreateAPIKey makes an admin API key that acts as the actor. Any user may
// make one for themselves; what it may do is what their role allows.
func (s *Service) CreateAPIKey(ctx context.Context, a Actor, name string) (NewAPIKey, error) {
	if strings.TrimSpace(name) == "" {
		name = "admin key"
	}
	name, err := cleanName("name", name, 100)
	if err != nil {
		return NewAPIKey{}, err
	}
	raw, k, err := apikey.Admin.Create(ctx, s.st, store.APIKey{AccountUUID: a.Account.UUID, UserUUID: a.User.UUID, Name: name}, s.now())
	if err != nil {
		return NewAPIKey{}, err
	}
	s.log.Info("admin key created", "account", a.Account.UUID, "key", k.ID, "user", a.User.UUID)
	return NewAPIKey{APIKey: apiKeyView(k), Secret: raw}, nil
}

// APIKeys lists the actor's own admin API keys.
func (s *Service) APIKeys(ctx context.Context, a Actor) ([]APIKey, error) {
	ks, err := s.st.APIKeys(ctx, a.Account.UUID, apikey.Admin.Name)
	if err != nil {
		return nil, err
	}
	out := []APIKey{}
	for _, k := range ks {
		if k.UserUUID == a.User.UUID {
			out = append(out, apiKeyView(k))
		}
	}
	return out, nil
}

// RevokeAPIKey revokes one of the actor's own admin API keys.
func (s *Service) RevokeAPIKey(ctx context.Context, a Actor, id string) (APIKey, error) {
	k, err := s.st.APIKey(ctx, strings.ToLower(strings.TrimSpace(id)))
	if errors.Is(err, store.ErrNotFound) || (err == nil && (k.Kind != apikey.Admin.Name || k.AccountUUID != a.Account.UUID || k.UserUUID != a.User.UUID)) {
		return APIKey{}, notFoundf("id", "no admin key %q of yours", id)
	}
	if err != nil {
		return APIKey{}, err
	}
	if k.RevokedAt.IsZero() {
		k.RevokedAt = s.now().UTC()
		if err := s.st.UpdateAPIKey(ctx, k); err != nil {
			return APIKey{}, err
		}
	}
	return apiKeyView(k), nil
}

// Authenticate returns the actor an admin API key acts as; ip is the
// caller's address, recorded in audit events. Any failure is
// ErrUnauthenticated, whatever its cause.
func (s *Service) Authenticate(ctx context.Context, raw, ip string) (Actor, error) {
	k, err := apikey.Admin.Authenticate(ctx, s.st, raw, s.now())
	if errors.Is(err, apikey.ErrBadKey) {
		return Actor{}, errUnauthenticated
	}
	if err != nil {
		return Actor{}, err
	}
	u, err := s.st.User(ctx, k.UserUUID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.AccountUUID != k.AccountUUID) {
		return Actor{}, errUnauthenticated
	}
	if err != nil {
		return Actor{}, err
	}
	acct, err := s.st.Account(ctx, k.AccountUUID)
	if err != nil {
		return Actor{}, fmt.Errorf("admin key account: %w", err)
	}
	return Actor{User: u, Account: acct, Session: keySession(k, ip)}, nil
}
