package cli

import (
	"context"

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

func ingestKeyCreate(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "ingest-key create", ingestKeyUsage, inAccount, true)
	var name string
	c.fs.StringVar(&name, "name", "", "a `name` to recognise the key by (required)")
	c.require(&name, "--name: is required")
	return act(ctx, c, args, func(s *adminCtx) (admin.NewIngestKey, error) { return s.svc.CreateIngestKey(ctx, s.actor, name) },
		func(s *adminCtx, k admin.NewIngestKey) error {
			return c.printSecret(k, k.Secret, "Ingest key %s for account %s; it is shown only this once.\n", k.ID, s.actor.Account.Name)
		})
}

func ingestKeyList(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "ingest-key list", ingestKeyUsage, inAccount, true)
	return list(ctx, c, args, func(s *adminCtx) ([]admin.IngestKey, error) { return s.svc.IngestKeys(ctx, s.actor) },
		[]string{"ID", "PREFIX", "NAME", "STATUS", "CREATED", "LAST USED", "REVOKED"}, func(k admin.IngestKey) []string {
			return []string{k.ID, k.Prefix, k.Name, k.Status, when(k.CreatedAt), when(k.LastUsedAt), when(k.RevokedAt)}
		})
}

func ingestKeyRevoke(ctx context.Context, env Env, args []string) error {
	c := newAdminCmd(env, "ingest-key revoke", ingestKeyUsage, inAccount, true)
	ref := c.ref("key", "the key's `ID, prefix or name` (or give it as the argument)", "--key: which key? (id, prefix lbi_…, or name)")
	return act(ctx, c, args, func(s *adminCtx) (admin.IngestKey, error) { return s.svc.RevokeIngestKey(ctx, s.actor, *ref) },
		func(_ *adminCtx, k admin.IngestKey) error {
			return c.printDone(k, "Revoked ingest key %q (%s); its next request gets 401.\n", k.Name, k.Prefix)
		})
}

// resolveAccount finds the account named by ref (name or uuid), or the
// only one when ref is empty.
func resolveAccount(ctx context.Context, st store.Store, ref string) (store.Account, error) {
	a, err := admin.New(st, nil, admin.Config{}).ResolveAccount(ctx, ref)
	return a, cliError(err)
}
