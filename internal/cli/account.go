package cli

import (
	"context"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/store"
)

const accountUsage = `
Usage: logbook account create --name NAME --owner-email EMAIL [--owner-name NAME] [--uuid UUID] [--password-stdin] [flags]
       logbook account list [--json] [flags]
       logbook account serve-window --account NAME|UUID --window SPAN|forever|default [--json] [flags]

Accounts are the server's tenants. "create" makes an account and its first
owner (with a web-console password read from stdin when --password-stdin);
it is the server operator's action. Other commands pick an account with
--account NAME|UUID, or use the only one.

"serve-window" sets how far back the Events API serves an account's events
(such as 400d; forever; default is the server's --serve-window, 120 days
unless set). It deletes nothing; older events stay stored either way. A
mirror's account (docs/mirror.md) usually serves forever.

Example:
  echo 'a long passphrase' | logbook account create --name Acme --owner-email ops@acme.test --password-stdin
`

func accountCreate(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "account create", accountUsage, serverWide, true)
	var name string
	var owner admin.NewUser
	c.fs.StringVar(&name, "name", "", "account `name` (unique)")
	c.fs.StringVar(&owner.Email, "owner-email", "", "e-mail of the first owner")
	c.fs.StringVar(&owner.Name, "owner-name", "", "display name of the first owner (default: from the e-mail)")
	var uuid string
	c.fs.StringVar(&uuid, "uuid", "", "the account's `UUID`, such as that of the 1Password account a remote mirror keeps (default: a new one)")
	c.require(&name, "--name: an account name is required")
	c.require(&owner.Email, "--owner-email: the first owner's e-mail is required")
	c.passwordStdin(&owner.Password, "read the owner's console password from stdin")
	return c.exec(ctx, args, func(s *adminCtx) error {
		if uuid == "" {
			uuid = events.NewID()
		}
		a, u, err := s.svc.CreateAccountUUID(ctx, uuid, name, owner)
		if err != nil {
			return renameFields(err, map[string]string{"email": "--owner-email", "password": "--password-stdin"})
		}
		return c.printDone(struct {
			Account admin.Account `json:"account"`
			Owner   admin.User    `json:"owner"`
		}{a, u}, "Created account %s (%s) with owner %s.\n", a.Name, a.UUID, u.Email)
	})
}

func accountList(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "account list", accountUsage, serverWide, true)
	return list(ctx, c, args, func(s *adminCtx) ([]admin.Account, error) { return s.svc.Accounts(ctx) },
		[]string{"UUID", "NAME", "CREATED"}, func(a admin.Account) []string {
			return []string{a.UUID, a.Name, when(a.CreatedAt)}
		})
}

func accountServeWindow(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "account serve-window", accountUsage, serverWide, true)
	ref := c.ref("account", "account `NAME|UUID`", "--account: the account is required")
	var window string
	c.fs.StringVar(&window, "window", "", "serving window: a `SPAN` such as 400d, forever, or default (the server's)")
	c.require(&window, "--window: a span such as 400d, forever or default is required")
	var w time.Duration
	return act(ctx, c, args, func(s *adminCtx) (admin.Account, error) {
		var err error
		if w, err = admin.ParseServeWindow(window); err != nil {
			return admin.Account{}, renameFields(err, map[string]string{"serve_window": "--window"})
		}
		a, err := s.svc.Account(ctx, *ref)
		if err != nil {
			return admin.Account{}, err
		}
		return s.svc.SetServeWindow(ctx, a, w)
	}, func(_ *adminCtx, v admin.Account) error {
		return c.printDone(v, "Account %s (%s) now serves events back %s.\n", v.Name, v.UUID, describeWindow(w))
	})
}

// describeWindow says how far back a serving window reaches, for messages.
func describeWindow(w time.Duration) string {
	switch w {
	case store.ServeForever:
		return "forever"
	case 0:
		return "as far as the server's --serve-window"
	}
	return admin.FormatServeWindow(w)
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
