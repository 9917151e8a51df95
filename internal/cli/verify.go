package cli

import (
	"context"
	"fmt"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/integrity"
)

const verifyUsage = `
Usage: logbook verify [--account NAME|UUID] [--stream FEATURE] [--data DIR | --db URL]

Checks that the stored events are those the store committed: each stream
(an account's signinattempts, itemusages or auditevents) keeps a Merkle tree
(RFC 6962) over its events, grown as they are appended. verify re-hashes
every stored event, compares the leaves with the tree's stored head, and
prints one line per stream: "ok" with its size and root hash, or "FAIL"
with the first position where an event was modified, removed, inserted or
reordered. The exit status is 1 when any stream fails.

The check reads the database only; it never migrates it. An operator who
can write the database can rewrite an event together with its leaf hash
and the head: verify then sees nothing. Keep tree heads elsewhere to catch
that (docs/integrity.md, once signed tree heads land).

Examples:
  logbook verify
  logbook verify --account Acme --stream auditevents
  LOGBOOK_DB=postgres://logbook@db.internal/logbook logbook verify
`

func runVerify(ctx context.Context, env Env, args []string) error {
	var f storeFlags
	var account, stream string
	fs := newFlagSet(env, "verify", verifyUsage)
	f.register(fs)
	fs.StringVar(&account, "account", "", "account `NAME|UUID` (default: every account)")
	fs.StringVar(&stream, "stream", "", "`feature` of the stream: signinattempts, itemusages or auditevents (default: all)")
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	var feature events.Feature
	if stream != "" {
		var err error
		if feature, err = events.ParseFeature(stream); err != nil {
			return usagef("--stream: %v", err)
		}
	}
	f.noMigrate = true
	st, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	var uuid string
	if account != "" {
		a, err := resolveAccount(ctx, st, account)
		if err != nil {
			return err
		}
		uuid = a.UUID
	}
	results, err := integrity.Verify(ctx, st, nil, uuid, feature)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	failed := 0
	for _, r := range results {
		if r.Problem != nil {
			failed++
			fmt.Fprintf(env.Stdout, "FAIL %s %s: %s\n", r.Account, r.Feature, r.Problem)
			continue
		}
		fmt.Fprintf(env.Stdout, "ok   %s %s: %d events (%d pruned by retention), root %s\n", r.Account, r.Feature, r.Size, r.Pruned, r.Root)
	}
	if failed > 0 {
		return fmt.Errorf("verify: %d of %d streams do not match their trees", failed, len(results))
	}
	fmt.Fprintf(env.Stderr, "%d streams verified\n", len(results))
	return nil
}
