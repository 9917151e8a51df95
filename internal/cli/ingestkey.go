package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/store"
)

const ingestKeyUsage = `
Usage: logbook ingest-key create --name NAME [--account A] [flags]

Ingest keys authenticate the ingestion API, POST /api/v2/ingest/{signinattempts,
itemusages,auditevents}, for one account: Authorization: Bearer lbi_….
"create" prints the key once on stdout; only its SHA-256 is kept. An ingest
key opens nothing else (not the Events API, not the admin API). See
docs/ingest.md.

Example:
  KEY=$(logbook ingest-key create --name pipeline)
  curl -s -H "Authorization: Bearer $KEY" --data-binary @events.ndjson \
    http://127.0.0.1:8080/api/v2/ingest/auditevents
`

func init() {
	extraCommands = append(extraCommands, command{"ingest-key", "create ingestion API keys", runIngestKey})
}

func runIngestKey(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "ingest-key", ingestKeyUsage, args, map[string]subcommand{
		"create": ingestKeyCreate,
	})
}

func ingestKeyCreate(ctx context.Context, env Env, args []string) error {
	var sf storeFlags
	var account, name string
	fs := newFlagSet(env, "ingest-key create", ingestKeyUsage)
	sf.register(fs)
	fs.StringVar(&account, "account", "", "account `NAME|UUID` (default: the only account)")
	fs.StringVar(&name, "name", "", "a `name` to recognise the key by (required)")
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	if name == "" {
		return usagef("--name: is required")
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	acct, err := resolveAccount(ctx, st, account)
	if err != nil {
		return err
	}
	raw, k, err := ingest.CreateKey(ctx, st, acct.UUID, name, time.Now())
	if err != nil {
		return usagef("--%v", err)
	}
	fmt.Fprintln(env.Stdout, raw)
	fmt.Fprintf(env.Stderr, "Ingest key %s for account %s; it is shown only this once.\n", k.ID, acct.Name)
	return nil
}

// resolveAccount finds the account named by ref (name or uuid), or the
// only one when ref is empty.
func resolveAccount(ctx context.Context, st store.Store, ref string) (store.Account, error) {
	svc := admin.New(st, nil, admin.Config{})
	var a store.Account
	var err error
	if ref != "" {
		a, err = svc.Account(ctx, ref)
	} else {
		a, err = svc.DefaultAccount(ctx)
	}
	return a, cliError(err)
}
