package cli

import (
	"context"
	"fmt"
)

const keysUsage = `
Usage: logbook keys list [--json] [flags]
       logbook keys rotate [flags]

Signing keys are the server's ES256 keys that sign Events API tokens,
identified by kid. "rotate" makes a new active key: new tokens are signed
with it, and older keys keep verifying the tokens they signed until those
expire or are revoked. Keys are server-wide; any owner or administrator
may rotate them.
`

func init() {
	extraCommands = append(extraCommands, command{"keys", "list and rotate token signing keys", runKeys})
}

func runKeys(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "keys", keysUsage, args, map[string]subcommand{
		"list":   keysList,
		"rotate": keysRotate,
	})
}

func keysList(ctx context.Context, env Env, args []string) error {
	var f adminFlags
	fs := f.flagSet(env, "keys list", keysUsage, true)
	if _, err := f.parse(fs, env, args, 0); err != nil {
		return err
	}
	return f.run(ctx, env, func(s *adminCtx) error {
		ks, err := s.svc.SigningKeys(ctx, s.actor)
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
	return f.run(ctx, env, func(s *adminCtx) error {
		k, err := s.svc.RotateKey(ctx, s.actor)
		if err != nil {
			return err
		}
		if f.json {
			return printJSON(env.Stdout, k)
		}
		fmt.Fprintf(env.Stdout, "New active signing key %s; older keys keep verifying their tokens.\n", k.ID)
		return nil
	})
}
