package admin

import (
	"context"
	"errors"
	"strings"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// The methods in this file are the server operator's (the CLI's, whoever
// can open the database): server-wide, with no actor and no audit event,
// like CreateAccount and Accounts.

// ListedToken is a token with the account and integration it belongs to,
// for listings that span accounts.
type ListedToken struct {
	Token
	AccountUUID     string `json:"account_uuid"`
	AccountName     string `json:"account"`
	IntegrationName string `json:"integration"`
}

// ServerTokens lists the tokens of every account, or of the accounts given,
// with their account's and integration's names, ordered by account name.
// integration (a UUID or a live integration's name), when set, keeps the
// tokens of the integrations it names; naming none is ErrNotFound.
func (s *Service) ServerTokens(ctx context.Context, accounts []store.Account, integration string) ([]ListedToken, error) {
	if accounts == nil {
		var err error
		if accounts, err = s.st.Accounts(ctx); err != nil {
			return nil, err
		}
	}
	integration = strings.TrimSpace(integration)
	matched := false
	now := s.now()
	var out []ListedToken
	for _, a := range accounts {
		ins, err := s.st.Integrations(ctx, a.UUID)
		if err != nil {
			return nil, err
		}
		names := map[string]string{}
		var keep []string
		for _, in := range ins {
			names[in.UUID] = in.Name
			if integration != "" && (strings.EqualFold(in.UUID, integration) ||
				in.DeletedAt.IsZero() && strings.EqualFold(in.Name, integration)) {
				keep = append(keep, in.UUID)
			}
		}
		var ts []store.Token
		switch {
		case integration == "":
			ts, err = s.st.AccountTokens(ctx, a.UUID)
		default:
			for _, id := range keep {
				matched = true
				var more []store.Token
				more, err = s.st.Tokens(ctx, id)
				ts = append(ts, more...)
				if err != nil {
					break
				}
			}
		}
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			out = append(out, ListedToken{Token: tokenView(t, now), AccountUUID: a.UUID, AccountName: a.Name,
				IntegrationName: names[t.IntegrationUUID]})
		}
	}
	if integration != "" && !matched {
		if events.ValidID(integration) {
			return nil, notFoundf("integration", "no integration %s", integration)
		}
		return nil, notFoundf("integration", "no integration named %q", integration)
	}
	return out, nil
}

// ServerSigningKeys lists the token-signing keys, which are server-wide.
func (s *Service) ServerSigningKeys(ctx context.Context) ([]SigningKey, error) {
	ks, err := s.st.SigningKeys(ctx)
	return views(ks, err, func(k store.SigningKey) SigningKey {
		return SigningKey{ID: k.ID, CreatedAt: k.CreatedAt, Active: k.Active}
	})
}

// ServerRotateKey makes a new active signing key, as RotateKey does.
func (s *Service) ServerRotateKey(ctx context.Context) (SigningKey, error) {
	return s.rotateKey(ctx, "operator")
}

// rotateKey makes a new active signing key and logs who asked for it.
func (s *Service) rotateKey(ctx context.Context, by string) (SigningKey, error) {
	k, err := s.tokens.RotateKey(ctx)
	if err != nil {
		return SigningKey{}, err
	}
	s.log.Info("signing key rotated", "kid", k.ID, "by", by)
	return SigningKey{ID: k.ID, CreatedAt: k.CreatedAt, Active: k.Active}, nil
}

// HasOwner reports whether account has an owner.
func (s *Service) HasOwner(ctx context.Context, account store.Account) (bool, error) {
	us, err := s.st.Users(ctx, account.UUID)
	if err != nil {
		return false, err
	}
	for _, u := range us {
		if u.Role == store.RoleOwner {
			return true, nil
		}
	}
	return false, nil
}

// AddFirstOwner adds the first owner of an account that has none (one that
// simulate or ingest made, say): there is nobody yet to act as, so, like
// CreateAccount, it is the operator's action and records no audit event.
// n.Role must be owner or empty.
func (s *Service) AddFirstOwner(ctx context.Context, account store.Account, n NewUser) (User, error) {
	if n.Role != "" && n.Role != store.RoleOwner {
		return User{}, invalidf("role", "account %q has no owner yet, so the first user added must be one: give --role owner", account.Name)
	}
	n.Role = store.RoleOwner
	ok, err := s.HasOwner(ctx, account)
	if err != nil {
		return User{}, err
	}
	if ok {
		return User{}, conflictf("role", "account %q already has an owner; add users as one (--as EMAIL)", account.Name)
	}
	u, err := s.newUser(n)
	if err != nil {
		return User{}, err
	}
	u.AccountUUID, u.CreatedAt = account.UUID, s.now().UTC()
	if err := s.st.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return User{}, conflictf("email", "%s is already a user of %s", u.Email, account.Name)
		}
		return User{}, err
	}
	s.log.Info("first owner added", "account", account.UUID, "user", u.UUID)
	return userView(u), nil
}
