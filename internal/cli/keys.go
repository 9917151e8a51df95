package cli

import (
	"context"

	"github.com/logbookhq/logbook/internal/admin"
)

const keysUsage = `
Usage: logbook keys list [--json] [flags]
       logbook keys rotate [flags]
       logbook keys kek-new --to FILE [--force]

Signing keys are the server's ES256 keys that sign Events API tokens,
identified by kid. "rotate" makes a new active key: new tokens are signed
with it, and older keys keep verifying the tokens they signed until those
expire or are revoked. Keys are server-wide: the commands need no
account. With --as EMAIL (and --account) they act as that user, who must
be an owner or administrator of the account.

"kek-new" makes a key-encryption key for --key-encryption-key-file, which
keeps signing keys encrypted at rest (see "logbook keys kek-new -h" and
docs/operations.md).
`

func keysList(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "keys list", keysUsage, eitherScope, true)
	return list(ctx, c, args, func(s *adminCtx) ([]admin.SigningKey, error) {
		return asUserOr(ctx, c, s, s.svc.SigningKeys, s.svc.ServerSigningKeys)
	}, []string{"KID", "CREATED", "ACTIVE"}, func(k admin.SigningKey) []string {
		active := ""
		if k.Active {
			active = "yes"
		}
		return []string{k.ID, when(k.CreatedAt), active}
	})
}

func keysRotate(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "keys rotate", keysUsage, eitherScope, true)
	return act(ctx, c, args, func(s *adminCtx) (admin.SigningKey, error) {
		return asUserOr(ctx, c, s, s.svc.RotateKey, s.svc.ServerRotateKey)
	}, func(_ *adminCtx, k admin.SigningKey) error {
		return c.printDone(k, "New active signing key %s; older keys keep verifying their tokens.\n", k.ID)
	})
}
