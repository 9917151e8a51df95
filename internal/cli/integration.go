package cli

import (
	"context"
	"fmt"
	"strings"

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

func runIntegration(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "integration", integrationUsage, args, map[string]subcommand{
		"create": integrationCreate,
		"list":   integrationList,
		"show":   integrationShow,
		"delete": integrationDelete,
	})
}

func integrationCreate(ctx context.Context, env Env, args []string) error {
	var f adminFlags
	var name, siem string
	fs := f.flagSet(env, "integration create", integrationUsage, true)
	fs.StringVar(&name, "name", "", "integration `name`")
	fs.StringVar(&siem, "siem", "Other", "SIEM `type`: "+strings.Join(admin.SIEMs, ", "))
	if _, err := f.parse(fs, env, args, 0); err != nil {
		return err
	}
	return f.run(ctx, env, func(s *adminCtx) error {
		in, err := s.svc.CreateIntegration(ctx, s.actor, name, siem)
		if err != nil {
			return err
		}
		return f.printDone(env, in, "Created integration %q (%s, %s).\n", in.Name, in.UUID, in.SIEM)
	})
}

func integrationList(ctx context.Context, env Env, args []string) error {
	var f adminFlags
	var all bool
	fs := f.flagSet(env, "integration list", integrationUsage, true)
	fs.BoolVar(&all, "all", false, "include deleted integrations")
	if _, err := f.parse(fs, env, args, 0); err != nil {
		return err
	}
	return f.run(ctx, env, func(s *adminCtx) error {
		ins, err := s.svc.Integrations(ctx, s.actor, all)
		if err != nil {
			return err
		}
		header := []string{"UUID", "NAME", "SIEM", "ACTIVE TOKENS", "CREATED"}
		if all {
			header = append(header, "DELETED")
		}
		return f.print(env, ins, header, func(i int) []string {
			in := ins[i]
			row := []string{in.UUID, in.Name, in.SIEM, fmt.Sprint(in.Tokens), when(in.CreatedAt)}
			if all {
				row = append(row, when(in.DeletedAt))
			}
			return row
		}, len(ins))
	})
}

func integrationShow(ctx context.Context, env Env, args []string) error {
	var f adminFlags
	fs := f.flagSet(env, "integration show", integrationUsage, true)
	ref, err := f.parse(fs, env, args, 1)
	if err != nil {
		return err
	}
	if ref == "" {
		return usagef("integration show: which integration? (name or UUID)")
	}
	return f.run(ctx, env, func(s *adminCtx) error {
		d, err := s.svc.Integration(ctx, s.actor, ref)
		if err != nil {
			return err
		}
		if f.json {
			return printJSON(env.Stdout, d)
		}
		fmt.Fprintf(env.Stdout, "Integration %q\n  uuid:     %s\n  siem:     %s\n  created:  %s\n  tokens:   %d active\n\n",
			d.Name, d.UUID, d.SIEM, when(d.CreatedAt), d.Tokens)
		return printTokens(env, &f, d.TokenList)
	})
}

func integrationDelete(ctx context.Context, env Env, args []string) error {
	var f adminFlags
	fs := f.flagSet(env, "integration delete", integrationUsage, false)
	ref, err := f.parse(fs, env, args, 1)
	if err != nil {
		return err
	}
	if ref == "" {
		return usagef("integration delete: which integration? (name or UUID)")
	}
	return f.run(ctx, env, func(s *adminCtx) error {
		in, err := s.svc.DeleteIntegration(ctx, s.actor, ref)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Deleted integration %q (%s); its tokens are revoked.\n", in.Name, in.UUID)
		return nil
	})
}

func printTokens(env Env, f *adminFlags, ts []admin.Token) error {
	return f.print(env, ts, []string{"ID", "NAME", "FEATURES", "STATUS", "ISSUED", "EXPIRES", "LAST USED"}, func(i int) []string {
		t := ts[i]
		exp := "never"
		if !t.ExpiresAt.IsZero() {
			exp = when(t.ExpiresAt)
		}
		return []string{t.ID, t.Name, events.JoinFeatures(t.Features), t.Status, when(t.IssuedAt), exp, when(t.LastUsedAt)}
	}, len(ts))
}
