package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/store"
)

const tokenUsage = `
Usage: logbook token issue --name NAME [--features LIST] [--expires-in D] [--integration NAME|UUID] [--save FILE] [flags]
       logbook token list [--account NAME|UUID] [--integration NAME|UUID] [--json] [flags]
       logbook token rename (ID|NAME | --token ID|NAME) --name NEW [flags]
       logbook token revoke (ID|NAME | --token ID|NAME) [flags]

Events API bearer tokens. "issue" prints only the token on stdout, so
TOKEN=$(logbook token issue ...) works; it is shown once and only its hash
is kept. --save FILE also writes it to FILE with mode 0600. "list" shows
the tokens of every account (with an ACCOUNT column when there are
several), or of one with --account, and each token's integration.

  --features    any of signinattempts,itemusages,auditevents (default: all)
  --expires-in  never (default), 30d, 90d, 180d, or a duration such as 12h or 2w
  --integration the account's only integration by default; with none, one
                named "Logbook CLI" of type Other is created

The token's aud is the host:port of --public-url, or of the URL the last
"logbook serve" recorded in --data, so tokens issued offline work against
the server. Revoking takes effect on the token's next request. Each action
is recorded in the account's audit events (create/satoken, expire/sa,
trename, trevoke).

Examples:
  TOKEN=$(logbook token issue --name splunk --features signinattempts,itemusages,auditevents --expires-in 90d)
  logbook token revoke splunk
`

// optionalString is a string flag that records whether it was given, so
// that --features "" is an error rather than "all".
type optionalString struct {
	set bool
	v   string
}

func (o *optionalString) String() string { return o.v }
func (o *optionalString) Set(v string) error {
	o.set, o.v = true, v
	return nil
}

func tokenIssue(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "token issue", tokenUsage, inAccount, true)
	c.publicURLFlag()
	var name, expires, integration, save string
	var features optionalString
	c.fs.StringVar(&name, "name", "", "token `name`")
	c.fs.Var(&features, "features", "comma-separated `list` of signinattempts, itemusages, auditevents (default: all)")
	c.fs.StringVar(&expires, "expires-in", "never", "`lifetime`: never, 30d, 90d, 180d, or a duration such as 12h")
	c.fs.StringVar(&integration, "integration", "", "integration `NAME|UUID` (default: the only one, or a new \"Logbook CLI\")")
	c.fs.StringVar(&save, "save", "", "also write the token to this `file` (mode 0600)")
	var fl []string
	c.check(func() error {
		if features.set {
			fl = []string{}
			for _, p := range strings.Split(features.v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					fl = append(fl, p)
				}
			}
		}
		if _, err := admin.ParseFeatureList(fl); err != nil {
			return cliError(err)
		}
		if _, err := admin.ParseExpiresIn(expires); err != nil {
			return cliError(err)
		}
		if strings.TrimSpace(name) == "" {
			return usagef("--name: a token name is required")
		}
		return nil
	})
	return c.exec(ctx, args, func(s *adminCtx) error {
		if integration == "" {
			in, err := s.svc.DefaultIntegration(ctx, s.actor)
			if err != nil {
				return err
			}
			integration = in.UUID
		}
		t, err := s.svc.IssueToken(ctx, s.actor, admin.IssueRequest{Integration: integration, Name: name,
			Features: fl, ExpiresIn: expires})
		if err != nil {
			return err
		}
		if save != "" {
			if err := writeFileAtomic(save, []byte(t.Secret+"\n"), 0o600); err != nil {
				return fmt.Errorf("--save: %w (the token %s was issued; revoke it if it is lost)", err, t.ID)
			}
		}
		exp := "never expires"
		if !t.ExpiresAt.IsZero() {
			exp = "expires " + when(t.ExpiresAt)
		}
		if err := c.printSecret(t, t.Secret, "Issued token %q (id %s) for %s; features %s; %s; aud %s. It is shown only this once.\n",
			t.Name, t.ID, s.actor.Account.Name, events.JoinFeatures(t.Features), exp, s.svc.TokenService().Audience()); err != nil {
			return err
		}
		if save != "" && !c.json {
			fmt.Fprintf(env.Stderr, "Saved to %s (mode 0600).\n", save)
		}
		return nil
	})
}

func tokenList(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "token list", tokenUsage, inAccount, true)
	var integration string
	c.fs.StringVar(&integration, "integration", "", "only this integration's tokens (`NAME|UUID`)")
	if err := c.parse(args); err != nil {
		return err
	}
	if c.as != "" {
		// As a user of one account: what their role lets them see.
		return c.runAs(ctx, true, func(s *adminCtx) error {
			lt, err := s.svc.ListedTokens(ctx, s.actor, integration)
			if err != nil {
				return err
			}
			return printListedTokens(c, lt, false)
		})
	}
	// The operator's view: one account with --account, else all of them.
	return c.runAs(ctx, false, func(s *adminCtx) error {
		var accounts []store.Account
		if c.account != "" {
			a, err := s.svc.Account(ctx, c.account)
			if err != nil {
				return err
			}
			accounts = []store.Account{a}
		}
		ts, err := s.svc.ServerTokens(ctx, accounts, integration)
		if err != nil {
			return err
		}
		many := accounts == nil
		if many {
			all, err := s.svc.Accounts(ctx)
			if err != nil {
				return err
			}
			many = len(all) > 1
		}
		return printListedTokens(c, ts, many)
	})
}

// printListedTokens prints tokens with their integration, and their
// account too when byAccount.
func printListedTokens(c *adminCmd, ts []admin.ListedToken, byAccount bool) error {
	header := []string{"ID", "NAME", "INTEGRATION", "FEATURES", "STATUS", "ISSUED", "EXPIRES", "LAST USED"}
	if byAccount {
		header = append([]string{"ACCOUNT"}, header...)
	}
	return printTable(c, ts, header, func(t admin.ListedToken) []string {
		row := []string{t.ID, t.Name, t.IntegrationName, events.JoinFeatures(t.Features), t.Status, when(t.IssuedAt), expires(t.ExpiresAt), when(t.LastUsedAt)}
		if byAccount {
			row = append([]string{t.AccountName}, row...)
		}
		return row
	})
}

// tokenRef makes c act on the token its argument or --token names.
func tokenRef(c *adminCmd) *string {
	return c.ref("token", "the token's `ID or name`", "which token? Give its ID or name as the argument, or with --token")
}

func tokenRename(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "token rename", tokenUsage, inAccount, true)
	ref := tokenRef(c)
	var name string
	c.fs.StringVar(&name, "name", "", "the new `name`")
	return act(ctx, c, args, func(s *adminCtx) (admin.Token, error) { return s.svc.RenameToken(ctx, s.actor, *ref, name) },
		func(_ *adminCtx, t admin.Token) error {
			return c.printDone(t, "Token %s is now named %q.\n", t.ID, t.Name)
		})
}

func tokenRevoke(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "token revoke", tokenUsage, inAccount, true)
	ref := tokenRef(c)
	return act(ctx, c, args, func(s *adminCtx) (admin.Token, error) { return s.svc.RevokeToken(ctx, s.actor, *ref) },
		func(_ *adminCtx, t admin.Token) error {
			return c.printDone(t, "Revoked token %q (%s); its next request gets 401.\n", t.Name, t.ID)
		})
}

// tokensOf returns the tokens of the account ref names, or of every
// account when ref is empty, and words where they were looked for.
func tokensOf(ctx context.Context, st store.Store, ref string) ([]store.Token, string, error) {
	if ref != "" {
		a, err := resolveAccount(ctx, st, ref)
		if err != nil {
			return nil, "", err
		}
		ts, err := st.AccountTokens(ctx, a.UUID)
		return ts, "account " + a.Name, err
	}
	as, err := st.Accounts(ctx)
	if err != nil {
		return nil, "", err
	}
	var ts []store.Token
	for _, a := range as {
		more, err := st.AccountTokens(ctx, a.UUID)
		if err != nil {
			return nil, "", err
		}
		ts = append(ts, more...)
	}
	return ts, "any account", nil
}
