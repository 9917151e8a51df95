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

// actsAsUser reports whether a server-wide command is to act as a user of
// an account (--as or --account given) rather than as the operator.
func (f *adminFlags) actsAsUser() bool { return f.as != "" || f.account != "" }

func runKeys(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "keys", keysUsage, args, map[string]subcommand{
		"list":    keysList,
		"rotate":  keysRotate,
		"kek-new": keysKEKNew,
	})
}

func keysList(ctx context.Context, env Env, args []string) error {
	var f adminFlags
	fs := f.flagSet(env, "keys list", keysUsage, true)
	if _, err := f.parse(fs, env, args, 0); err != nil {
		return err
	}
	return f.runWith(ctx, f.actsAsUser(), func(s *adminCtx) error {
		var ks []admin.SigningKey
		var err error
		if f.actsAsUser() {
			ks, err = s.svc.SigningKeys(ctx, s.actor)
		} else {
			ks, err = s.svc.ServerSigningKeys(ctx)
		}
		if err != nil {
			return err
		}
		return f.print(env, ks, []string{"KID", "CREATED", "ACTIVE"}, func(i int) []string {
			active := ""
			if ks[i].Active {
				active = "yes"
			}
			return []string{ks[i].ID, when(ks[i].CreatedAt), active}
		}, len(ks))
	})
}

func keysRotate(ctx context.Context, env Env, args []string) error {
	var f adminFlags
	fs := f.flagSet(env, "keys rotate", keysUsage, true)
	if _, err := f.parse(fs, env, args, 0); err != nil {
		return err
	}
	return f.runWith(ctx, f.actsAsUser(), func(s *adminCtx) error {
		var k admin.SigningKey
		var err error
		if f.actsAsUser() {
			k, err = s.svc.RotateKey(ctx, s.actor)
		} else {
			k, err = s.svc.ServerRotateKey(ctx)
		}
		if err != nil {
			return err
		}
		return f.printDone(env, k, "New active signing key %s; older keys keep verifying their tokens.\n", k.ID)
	})
}
