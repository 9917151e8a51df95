package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
)

const integrationUsage = `
Usage: logbook integration create --name NAME [--siem TYPE] [flags]
       logbook integration list [--all] [--json] [flags]
       logbook integration show NAME|UUID [--json] [flags]
       logbook integration delete NAME|UUID [flags]

Events Reporting integrations, as 1Password's: TYPE is Splunk, Elastic,
Datadog, Sumo Logic, Panther, Microsoft Sentinel or Other (default; case,
spaces and dashes do not matter). Creating one records create/sa in the
account's audit events. "delete" marks it deleted and revokes its tokens
(trevoke/satoken for each). Only owners and administrators may do any of
this; the CLI acts as the account's first owner unless --as EMAIL.

Examples:
  logbook integration create --name "Splunk prod" --siem splunk
  logbook integration show "Splunk prod"
`

func integrationCreate(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "integration create", integrationUsage, inAccount, true)
	var name, siem string
	c.fs.StringVar(&name, "name", "", "integration `name`")
	c.fs.StringVar(&siem, "siem", "Other", "SIEM `type`: "+strings.Join(admin.SIEMs, ", "))
	return act(ctx, c, args, func(s *adminCtx) (admin.Integration, error) { return s.svc.CreateIntegration(ctx, s.actor, name, siem) },
		func(_ *adminCtx, in admin.Integration) error {
			return c.printDone(in, "Created integration %q (%s, %s).\n", in.Name, in.UUID, in.SIEM)
		})
}

func integrationList(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "integration list", integrationUsage, inAccount, true)
	var all bool
	c.fs.BoolVar(&all, "all", false, "include deleted integrations")
	return act(ctx, c, args, func(s *adminCtx) ([]admin.Integration, error) { return s.svc.Integrations(ctx, s.actor, all) },
		func(_ *adminCtx, ins []admin.Integration) error {
			header := []string{"UUID", "NAME", "SIEM", "ACTIVE TOKENS", "CREATED"}
			if all {
				header = append(header, "DELETED")
			}
			return printTable(c, ins, header, func(in admin.Integration) []string {
				row := []string{in.UUID, in.Name, in.SIEM, fmt.Sprint(in.Tokens), when(in.CreatedAt)}
				if all {
					row = append(row, when(in.DeletedAt))
				}
				return row
			})
		})
}

func integrationShow(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "integration show", integrationUsage, inAccount, true)
	ref := c.ref("", "", "integration show: which integration? (name or UUID)")
	return act(ctx, c, args, func(s *adminCtx) (admin.IntegrationDetails, error) { return s.svc.Integration(ctx, s.actor, *ref) },
		func(_ *adminCtx, d admin.IntegrationDetails) error {
			if c.json {
				return printJSON(env.Stdout, d)
			}
			fmt.Fprintf(env.Stdout, "Integration %q\n  uuid:     %s\n  siem:     %s\n  created:  %s\n  tokens:   %d active\n\n",
				d.Name, d.UUID, d.SIEM, when(d.CreatedAt), d.Tokens)
			return printTokens(c, d.TokenList)
		})
}

func integrationDelete(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "integration delete", integrationUsage, inAccount, false)
	ref := c.ref("", "", "integration delete: which integration? (name or UUID)")
	return act(ctx, c, args, func(s *adminCtx) (admin.Integration, error) { return s.svc.DeleteIntegration(ctx, s.actor, *ref) },
		func(_ *adminCtx, in admin.Integration) error {
			return c.printDone(in, "Deleted integration %q (%s); its tokens are revoked.\n", in.Name, in.UUID)
		})
}

func printTokens(c *adminCmd, ts []admin.Token) error {
	return printTable(c, ts, []string{"ID", "NAME", "FEATURES", "STATUS", "ISSUED", "EXPIRES", "LAST USED"}, func(t admin.Token) []string {
		return []string{t.ID, t.Name, events.JoinFeatures(t.Features), t.Status, when(t.IssuedAt), expires(t.ExpiresAt), when(t.LastUsedAt)}
	})
}

// expires formats when a token expires for tables: "never" for zero.
func expires(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return when(t)
}
