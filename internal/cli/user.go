package cli

import (
	"context"
	"fmt"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/store"
)

const userUsage = `
Usage: logbook user add --email EMAIL [--name NAME] [--role ROLE] [--password-stdin] [flags]
       logbook user list [--json] [flags]
       logbook user set-role --user EMAIL|UUID --role ROLE [flags]

Users of an account; ROLE is owner, administrator or member (default). Only
owners and administrators manage integrations and tokens. --password-stdin
reads a web-console password from stdin (stored as an argon2id hash).

Examples:
  echo 'a long passphrase' | logbook user add --email ana@acme.test --role owner --password-stdin
  logbook user set-role --user ana@acme.test --role administrator
`

func runUser(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "user", userUsage, args, map[string]subcommand{
		"add":      userAdd,
		"list":     userList,
		"set-role": userSetRole,
	})
}

func userAdd(ctx context.Context, env Env, args []string) error {
	var f adminFlags
	var n admin.NewUser
	var role string
	var pwStdin bool
	fs := f.flagSet(env, "user add", userUsage, true)
	fs.StringVar(&n.Email, "email", "", "the user's `e-mail`")
	fs.StringVar(&n.Name, "name", "", "display `name` (default: from the e-mail)")
	fs.StringVar(&role, "role", "member", "`role`: owner, administrator or member")
	fs.BoolVar(&pwStdin, "password-stdin", false, "read a console password from stdin")
	if _, err := f.parse(fs, env, args, 0); err != nil {
		return err
	}
	n.Role = store.Role(role)
	if pwStdin {
		pw, err := readPassword(env)
		if err != nil {
			return err
		}
		n.Password = pw
	}
	return f.runWith(ctx, false, func(s *adminCtx) error {
		acct, err := s.svc.ResolveAccount(ctx, f.account)
		if err != nil {
			return err
		}
		var u admin.User
		first := false
		if f.as == "" {
			// An account that simulate or ingest made has no owner yet:
			// the operator adds the first one.
			has, err := s.svc.HasOwner(ctx, acct)
			if err != nil {
				return err
			}
			first = !has
		}
		if first {
			u, err = s.svc.AddFirstOwner(ctx, acct, n)
		} else {
			var actor admin.Actor
			if actor, err = s.svc.ActorAs(ctx, acct, f.as); err != nil {
				return err
			}
			u, err = s.svc.AddUser(ctx, actor, n)
		}
		if err != nil {
			return renameFields(err, map[string]string{"password": "--password-stdin"})
		}
		if f.json {
			return printJSON(env.Stdout, u)
		}
		fmt.Fprintf(env.Stdout, "Added %s (%s) to %s as %s.\n", u.Email, u.UUID, acct.Name, u.Role)
		if first {
			fmt.Fprintf(env.Stderr, "%s is the first owner of %s. Next, a token: logbook token issue --account %s --name NAME\n",
				u.Email, acct.Name, shellQuote(acct.Name))
		}
		return nil
	})
}

func userList(ctx context.Context, env Env, args []string) error {
	var f adminFlags
	fs := f.flagSet(env, "user list", userUsage, true)
	if _, err := f.parse(fs, env, args, 0); err != nil {
		return err
	}
	return f.run(ctx, env, func(s *adminCtx) error {
		us, err := s.svc.Users(ctx, s.actor)
		if err != nil {
			return err
		}
		return f.print(env, us, []string{"UUID", "EMAIL", "NAME", "ROLE", "PASSWORD", "CREATED"}, func(i int) []string {
			u := us[i]
			pw := "no"
			if u.HasPassword {
				pw = "yes"
			}
			return []string{u.UUID, u.Email, u.Name, string(u.Role), pw, when(u.CreatedAt)}
		}, len(us))
	})
}

func userSetRole(ctx context.Context, env Env, args []string) error {
	var f adminFlags
	var user, role string
	fs := f.flagSet(env, "user set-role", userUsage, true)
	fs.StringVar(&user, "user", "", "the user's `e-mail or UUID`")
	fs.StringVar(&role, "role", "", "new `role`: owner, administrator or member")
	arg, err := f.parse(fs, env, args, 1)
	if err != nil {
		return err
	}
	if user == "" {
		user = arg
	}
	if user == "" {
		return usagef("--user: which user? (e-mail or UUID)")
	}
	if role == "" {
		return usagef("--role: a role is required (owner, administrator or member)")
	}
	return f.run(ctx, env, func(s *adminCtx) error {
		u, err := s.svc.SetRole(ctx, s.actor, user, store.Role(role))
		if err != nil {
			return err
		}
		return f.printDone(env, u, "%s is now %s.\n", u.Email, u.Role)
	})
}
