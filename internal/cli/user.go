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

func userAdd(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "user add", userUsage, inAccount, true)
	var n admin.NewUser
	var role string
	c.fs.StringVar(&n.Email, "email", "", "the user's `e-mail`")
	c.fs.StringVar(&n.Name, "name", "", "display `name` (default: from the e-mail)")
	c.fs.StringVar(&role, "role", "member", "`role`: owner, administrator or member")
	c.passwordStdin(&n.Password, "read a console password from stdin")
	if err := c.parse(args); err != nil {
		return err
	}
	n.Role = store.Role(role)
	return c.runAs(ctx, false, func(s *adminCtx) error {
		acct, err := s.svc.ResolveAccount(ctx, c.account)
		if err != nil {
			return err
		}
		var u admin.User
		first := false
		if c.as == "" {
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
			if actor, err = s.svc.ActorAs(ctx, acct, c.as); err != nil {
				return err
			}
			u, err = s.svc.AddUser(ctx, actor, n)
		}
		if err != nil {
			return renameFields(err, map[string]string{"password": "--password-stdin"})
		}
		if err := c.printDone(u, "Added %s (%s) to %s as %s.\n", u.Email, u.UUID, acct.Name, u.Role); err != nil || c.json {
			return err
		}
		if first {
			fmt.Fprintf(env.Stderr, "%s is the first owner of %s. Next, a token: logbook token issue --account %s --name NAME\n",
				u.Email, acct.Name, shellQuote(acct.Name))
		}
		return nil
	})
}

func userList(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "user list", userUsage, inAccount, true)
	return list(ctx, c, args, func(s *adminCtx) ([]admin.User, error) { return s.svc.Users(ctx, s.actor) },
		[]string{"UUID", "EMAIL", "NAME", "ROLE", "PASSWORD", "CREATED"}, func(u admin.User) []string {
			pw := "no"
			if u.HasPassword {
				pw = "yes"
			}
			return []string{u.UUID, u.Email, u.Name, string(u.Role), pw, when(u.CreatedAt)}
		})
}

func userSetRole(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "user set-role", userUsage, inAccount, true)
	user := c.ref("user", "the user's `e-mail or UUID`", "--user: which user? (e-mail or UUID)")
	var role string
	c.fs.StringVar(&role, "role", "", "new `role`: owner, administrator or member")
	c.require(&role, "--role: a role is required (owner, administrator or member)")
	return act(ctx, c, args, func(s *adminCtx) (admin.User, error) { return s.svc.SetRole(ctx, s.actor, *user, store.Role(role)) },
		func(_ *adminCtx, u admin.User) error { return c.printDone(u, "%s is now %s.\n", u.Email, u.Role) })
}
