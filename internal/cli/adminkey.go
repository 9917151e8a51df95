package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/logbookhq/logbook/internal/admin"
)

const adminKeyUsage = `
Usage: logbook admin-key create [--name NAME] [flags]
       logbook admin-key list [flags]
       logbook admin-key revoke ID [flags]

Admin API keys authenticate the admin HTTP API (/admin/api/v1, described by
/admin/api/v1/openapi.json): Authorization: Bearer lba_…. A key acts as the
user who made it (the account's first owner, or --as EMAIL) and may do what
that user's role allows. "create" prints the key once on stdout; only its
SHA-256 is kept. An admin key never opens the Events API.

Examples:
  KEY=$(logbook admin-key create --name ops)
  curl -s -H "Authorization: Bearer $KEY" http://127.0.0.1:8080/admin/api/v1/integrations
`

func adminKeyCreate(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "admin-key create", adminKeyUsage, inAccount, false)
	var name string
	c.fs.StringVar(&name, "name", "", "a `name` to recognise the key by")
	return act(ctx, c, args, func(s *adminCtx) (admin.NewAPIKey, error) { return s.svc.CreateAPIKey(ctx, s.actor, name) },
		func(s *adminCtx, k admin.NewAPIKey) error {
			return c.printSecret(k, k.Secret, "Admin key %s for %s in %s; it is shown only this once.\n", k.ID, s.actor.User.Email, s.actor.Account.Name)
		})
}

func adminKeyList(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "admin-key list", adminKeyUsage, inAccount, true)
	return list(ctx, c, args, func(s *adminCtx) ([]admin.APIKey, error) { return s.svc.APIKeys(ctx, s.actor) },
		[]string{"ID", "NAME", "CREATED", "REVOKED"}, func(k admin.APIKey) []string {
			return []string{k.ID, k.Name, when(k.CreatedAt), when(k.RevokedAt)}
		})
}

func adminKeyRevoke(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "admin-key revoke", adminKeyUsage, inAccount, false)
	id := c.ref("", "", "")
	return act(ctx, c, args, func(s *adminCtx) (admin.APIKey, error) { return s.svc.RevokeAPIKey(ctx, s.actor, *id) },
		func(_ *adminCtx, k admin.APIKey) error {
			fmt.Fprintf(env.Stderr, "Admin key %s revoked.\n", k.ID)
			return nil
		})
}

// fieldFlags maps the admin package's field names to the flags that carry
// them, where they differ.
var fieldFlags = map[string]string{
	"expires_in": "--expires-in",
	"siem":       "--siem",
	"email":      "--email",
}

// cliError renders an admin error for the command line, naming the flag:
// invalid input is a usage error (exit 2); the other kinds keep their
// message (exit 1).
func cliError(err error) error {
	if err == nil {
		return nil
	}
	var ae *admin.Error
	if !errors.As(err, &ae) {
		return err
	}
	msg := ae.Msg
	if ae.Field != "" {
		flagName, ok := fieldFlags[ae.Field]
		if !ok {
			flagName = "--" + strings.ReplaceAll(ae.Field, "_", "-")
		}
		msg = flagName + ": " + ae.Msg
	}
	// The kind's admin.CodeOf, in words, says what went wrong ("not
	// found: --token: …"); an unauthenticated error's message says it.
	switch admin.KindOf(err) {
	case admin.ErrInvalid:
		return usagef("%s", msg)
	case admin.ErrForbidden, admin.ErrNotFound, admin.ErrConflict:
		return fmt.Errorf("%s: %s", strings.ReplaceAll(admin.CodeOf(err), "_", " "), msg)
	}
	return errors.New(msg)
}
