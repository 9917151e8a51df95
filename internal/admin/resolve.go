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
