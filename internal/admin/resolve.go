package admin

import (
	"context"

	"github.com/logbookhq/logbook/internal/store"
)

// ResolveAccount returns the account ref names (its name or UUID), or,
// when ref is empty, the only account (DefaultAccount).
func (s *Service) ResolveAccount(ctx context.Context, ref string) (store.Account, error) {
	if ref != "" {
		return s.Account(ctx, ref)
	}
	return s.DefaultAccount(ctx)
}

// ActorIn returns the actor a command line's --account REF --as EMAIL
// names: the user with e-mail email (the first owner when empty) in the
// account ref names (the only account when empty).
func (s *Service) ActorIn(ctx context.Context, ref, email string) (Actor, error) {
	acct, err := s.ResolveAccount(ctx, ref)
	if err != nil {
		return Actor{}, err
	}
	return s.ActorAs(ctx, acct, email)
}

// ListedTokens is Tokens with each token's account and integration named,
// as ServerTokens lists them: what the actor's role lets them see.
func (s *Service) ListedTokens(ctx context.Context, a Actor, integration string) ([]ListedToken, error) {
	ts, err := s.Tokens(ctx, a, integration)
	if err != nil {
		return nil, err
	}
	ins, err := s.Integrations(ctx, a, true)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, in := range ins {
		names[in.UUID] = in.Name
	}
	lt := make([]ListedToken, len(ts))
	for i, t := range ts {
		lt[i] = ListedToken{Token: t, AccountUUID: a.Account.UUID, AccountName: a.Account.Name,
			IntegrationName: names[t.IntegrationUUID]}
	}
	return lt, nil
}
