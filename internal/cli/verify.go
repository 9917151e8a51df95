package cli

import (
	"context"
	"fmt"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/integrity"
	"github.com/logbookhq/logbook/internal/store"
)

const verifyUsage = `
Usage: logbook verify [--account NAME|UUID] [--stream FEATURE] [--sign] [--data DIR | --db URL]

Checks that the stored events are those the store committed: each stream
(an account's signinattempts, itemusages or auditevents) keeps a Merkle tree
(RFC 6962) over its events, grown as they are appended. verify re-hashes
every stored event, compares the leaves with the tree's stored head, and
prints one line per stream: "ok" with its size and root hash, or "FAIL"
with the first position where an event was modified, removed, inserted or
reordered. It checks every signed tree head too (serve signs them, see
--tree-head-every): its signature, and that the leaves give it. The exit
status is 1 when any stream fails.

The check reads the database only; it never migrates it. With --sign, each
stream that checks out then gets its current head signed (the tree key is
made if there is none). Someone who can write the database can rewrite an
event with its leaf hash and the stored head; only a signed head kept
elsewhere, or the signing key kept from them, catches that
(docs/integrity.md). With keys encrypted at rest, give the KEK.

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
	var sign bool
	fs.BoolVar(&sign, "sign", false, "sign the current tree head of each stream that checks out")
	var kf kekFlags
	kf.register(fs)
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
	st, heads, err := openTrees(ctx, env, &f, &kf)
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
	results, err := integrity.Verify(ctx, st, heads, uuid, feature)
	if err != nil {
		return fmt.Errorf("verify: %w", kekHint(err))
	}
	if sign {
		if err := heads.EnsureKey(ctx); err != nil {
			return fmt.Errorf("tree key: %w", kekHint(err))
		}
	}
	failed := 0
	for _, r := range results {
		if r.Problem != nil {
			failed++
			fmt.Fprintf(env.Stdout, "FAIL %s %s: %s\n", r.Account, r.Feature, r.Problem)
			continue
		}
		fmt.Fprintf(env.Stdout, "ok   %s %s: %d events (%d pruned by retention), root %s, %d signed heads\n", r.Account, r.Feature, r.Size, r.Pruned, r.Root, r.Signed)
		if sign && r.Size > 0 {
			h, err := heads.Sign(ctx, r.Account, r.Feature)
			if err != nil {
				return fmt.Errorf("sign: %w", err)
			}
			fmt.Fprintf(env.Stdout, "     signed head of size %d with key %s\n", h.Size, h.KeyID)
		}
	}
	if failed > 0 {
		return fmt.Errorf("verify: %d of %d streams do not match their trees", failed, len(results))
	}
	fmt.Fprintf(env.Stderr, "%d streams verified\n", len(results))
	return nil
}

// openTrees opens the store without migrating it, for a command on its
// trees, and the Signer of its tree keys (with the KEK, if given).
func openTrees(ctx context.Context, env Env, f *storeFlags, kf *kekFlags) (store.Store, *integrity.Signer, error) {
	kek, err := kf.load(env)
	if err != nil {
		return nil, nil, err
	}
	f.noMigrate = true
	st, err := f.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	return st, integrity.NewSigner(st, integrity.SignerConfig{KEK: kek}), nil
}
