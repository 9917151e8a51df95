package cli

import (
	"context"
	"fmt"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/store"
)

const ingestKeyUsage = `
Usage: logbook ingest-key create --name NAME [flags]
       logbook ingest-key list [--json] [flags]
       logbook ingest-key revoke ID|PREFIX|NAME [flags]

Ingest keys authenticate the ingestion API, POST /api/v2/ingest/{signinattempts,
itemusages,auditevents}, for one account: Authorization: Bearer lbi_….
"create" prints the key once on stdout; only its SHA-256 is kept. An ingest
key opens nothing else (not the Events API, not the admin API). See
docs/ingest.md.

"list" shows every key of the account: id, prefix (how the key begins, to
tell which key a leaked string is), name, status, when it was made, last
used (recorded at most once a minute) and revoked. "revoke" takes the id,
the prefix, the whole key, or the name when no other key has it; the key's
very next request gets 401, on every server sharing the database. Creating
and revoking are owner or administrator actions (the account's first owner,
or --as EMAIL) and record create/satoken and trevoke/satoken audit events
with aux_info "ingest key: NAME".

Example:
  KEY=$(logbook ingest-key create --name pipeline)
  curl -s -H "Authorization: Bearer $KEY" --data-binary @events.ndjson \
    http://127.0.0.1:8080/api/v2/ingest/auditevents
  logbook ingest-key list
  logbook ingest-key revoke pipeline
`

func runIngestKey(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "ingest-key", ingestKeyUsage, args, map[string]subcommand{
		"create": ingestKeyCreate,
		"list":   ingestKeyList,
		"revoke": ingestKeyRevoke,
	})
}

func ingestKeyCreate(ctx context.Context, env Env, args []string) error {
	var f adminFlags
	var name string
	fs := f.flagSet(env, "ingest-key create", ingestKeyUsage, true)
	fs.StringVar(&name, "name", "", "a `name` to recognise the key by (required)")
	if _, err := f.parse(fs, env, args, 0); err != nil {
		return err
	}
	if name == "" {
		return usagef("--name: is required")
	}
	return f.run(ctx, env, func(s *adminCtx) error {
		k, err := s.svc.CreateIngestKey(ctx, s.actor, name)
		if err != nil {
			return err
		}
		if f.json {
			return printJSON(env.Stdout, k)
		}
		fmt.Fprintln(env.Stdout, k.Secret)
		fmt.Fprintf(env.Stderr, "Ingest key %s for account %s; it is shown only this once.\n", k.ID, s.actor.Account.Name)
		return nil
	})
}

func ingestKeyList(ctx context.Context, env Env, args []string) error {
	var f adminFlags
	fs := f.flagSet(env, "ingest-key list", ingestKeyUsage, true)
	if _, err := f.parse(fs, env, args, 0); err != nil {
		return err
	}
	return f.run(ctx, env, func(s *adminCtx) error {
		ks, err := s.svc.IngestKeys(ctx, s.actor)
		if err != nil {
			return err
		}
		return f.print(env, ks, []string{"ID", "PREFIX", "NAME", "STATUS", "CREATED", "LAST USED", "REVOKED"}, func(i int) []string {
			k := ks[i]
			return []string{k.ID, k.Prefix, k.Name, k.Status, when(k.CreatedAt), when(k.LastUsedAt), when(k.RevokedAt)}
		}, len(ks))
	})
}

func ingestKeyRevoke(ctx context.Context, env Env, args []string) error {
	var f adminFlags
	var ref string
	fs := f.flagSet(env, "ingest-key revoke", ingestKeyUsage, true)
	fs.StringVar(&ref, "key", "", "the key's `ID, prefix or name` (or give it as the argument)")
	if err := f.parseRef(fs, env, args, &ref, "--key: which key? (id, prefix lbi_…, or name)"); err != nil {
		return err
	}
	return f.run(ctx, env, func(s *adminCtx) error {
		k, err := s.svc.RevokeIngestKey(ctx, s.actor, ref)
		if err != nil {
			return err
		}
		return f.printDone(env, k, "Revoked ingest key %q (%s); its next request gets 401.\n", k.Name, k.Prefix)
	})
}

// resolveAccount finds the account named by ref (name or uuid), or the
// only one when ref is empty.
func resolveAccount(ctx context.Context, st store.Store, ref string) (store.Account, error) {
	a, err := admin.New(st, nil, admin.Config{}).ResolveAccount(ctx, ref)
	return a, cliError(err)
}
