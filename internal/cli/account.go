package cli

import (
	"context"
	"fmt"

	"github.com/logbookhq/logbook/internal/admin"
)

const accountUsage = `
Usage: logbook account create --name NAME --owner-email EMAIL [--owner-name NAME] [--password-stdin] [flags]
       logbook account list [--json] [flags]

Accounts are the server's tenants. "create" makes an account and its first
owner (with a web-console password read from stdin when --password-stdin);
it is the server operator's action. Other commands pick an account with
--account NAME|UUID, or use the only one.

Example:
  echo 'a long passphrase' | logbook account create --name Acme --owner-email ops@acme.test --password-stdin
`

func runAccount(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "account", accountUsage, args, map[string]subcommand{
		"create": accountCreate,
		"list":   accountList,
	})
}

func accountCreate(ctx context.Context, env Env, args []string) error {
	var f adminFlags
	var name, email, ownerName string
	var pwStdin bool
	fs := f.serverFlagSet(env, "account create", accountUsage, true)
	fs.StringVar(&name, "name", "", "account `name` (unique)")
	fs.StringVar(&email, "owner-email", "", "e-mail of the first owner")
	fs.StringVar(&ownerName, "owner-name", "", "display name of the first owner (default: from the e-mail)")
	fs.BoolVar(&pwStdin, "password-stdin", false, "read the owner's console password from stdin")
	if _, err := f.parse(fs, env, args, 0); err != nil {
		return err
	}
	if name == "" {
		return usagef("--name: an account name is required")
	}
	if email == "" {
		return usagef("--owner-email: the first owner's e-mail is required")
	}
	owner := admin.NewUser{Email: email, Name: ownerName}
	if pwStdin {
		pw, err := readPassword(env)
		if err != nil {
			return err
		}
		owner.Password = pw
	}
	return f.runWith(ctx, false, func(s *adminCtx) error {
		a, u, err := s.svc.CreateAccount(ctx, name, owner)
		if err != nil {
			return renameFields(err, map[string]string{"email": "--owner-email", "password": "--password-stdin"})
		}
		if f.json {
			return printJSON(env.Stdout, struct {
				Account admin.Account `json:"account"`
				Owner   admin.User    `json:"owner"`
			}{a, u})
		}
		fmt.Fprintf(env.Stdout, "Created account %s (%s) with owner %s.\n", a.Name, a.UUID, u.Email)
		return nil
	})
}

func accountList(ctx context.Context, env Env, args []string) error {
	var f adminFlags
	fs := f.serverFlagSet(env, "account list", accountUsage, true)
	if _, err := f.parse(fs, env, args, 0); err != nil {
		return err
	}
	return f.runWith(ctx, false, func(s *adminCtx) error {
		as, err := s.svc.Accounts(ctx)
		if err != nil {
			return err
		}
		return f.print(env, as, []string{"UUID", "NAME", "CREATED"}, func(i int) []string {
			return []string{as[i].UUID, as[i].Name, when(as[i].CreatedAt)}
		}, len(as))
	})
}

// renameFields returns err with its admin field replaced by a flag name
// from m, for commands whose flags are named differently.
func renameFields(err error, m map[string]string) error {
	if ae, ok := err.(*admin.Error); ok {
		if flagName, ok := m[ae.Field]; ok {
			c := *ae
			c.Field = flagName[2:]
			return &c
		}
	}
	return err
}
