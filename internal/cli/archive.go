package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/logbookhq/logbook/internal/integrity"
	"github.com/logbookhq/logbook/internal/token"
)

const archiveUsage = `
Usage: logbook archive --to DIR [--from DAY] [--until DAY] [--account NAME|UUID] [--data DIR | --db URL]
       logbook archive verify DIR --public-key FILE

Writes the stored events to DIR for keeping, as CloudTrail's log files and
digests: per account and UTC day, a gzipped NDJSON segment per stream (the
events' v2 bytes, in stream order) and a manifest signed with the tree key
(DIR/ACCOUNT/DAY/manifest.jws) that holds each segment's SHA-256 and count,
each stream's Merkle tree head at the day's end, and the hash of the day
before's manifest. Only days that are over are written (--until defaults
to yesterday); a day already signed in DIR is never rewritten: a new run
goes on from the day after the last. --from (first day, default: the
first day of events, or the day after DIR's last) and --until take
YYYY-MM-DD. Files are 0600, written crash-safely.

"verify" checks an archive with nothing but its files and the tree keys'
public keys (a JWKS, as "logbook keys tree-public" writes it): each
manifest's signature, the chain of days, each segment's hash and count,
and that each day's events give the tree head its manifest signed. It
names every problem (day, stream, what) and exits 1 on any. See
docs/integrity.md for what it cannot see.

Examples:
  logbook archive --to /mnt/archive
  logbook keys tree-public --to tree-keys.jwks
  logbook archive verify /mnt/archive --public-key tree-keys.jwks
`

func runArchive(ctx context.Context, env Env, args []string) error {
	return dispatchOr(ctx, env, "archive", archiveUsage, args, map[string]subcommand{
		"verify": archiveVerify,
	}, archiveWrite)
}

func archiveWrite(ctx context.Context, env Env, args []string) error {
	var f storeFlags
	var kf kekFlags
	var dir, account, from, until string
	fs := newFlagSet(env, "archive", archiveUsage)
	f.register(fs)
	kf.register(fs)
	fs.StringVar(&dir, "to", "", "the archive's `DIR`")
	fs.StringVar(&from, "from", "", "the first `DAY` to archive, YYYY-MM-DD (default: the first day of events, or the day after the archive's last)")
	fs.StringVar(&until, "until", "", "the last `DAY` to archive, YYYY-MM-DD (default: yesterday)")
	fs.StringVar(&account, "account", "", "account `NAME|UUID` (default: every account)")
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	if dir == "" {
		return usagef("--to DIR is required")
	}
	var opts integrity.ArchiveOptions
	for _, d := range []struct {
		flag, value string
		to          *time.Time
	}{{"from", from, &opts.From}, {"until", until, &opts.Until}} {
		if d.value == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.value)
		if err != nil {
			return usagef("--%s: want a day, YYYY-MM-DD: %v", d.flag, err)
		}
		*d.to = t
	}
	st, signer, err := openTrees(ctx, env, &f, &kf)
	if err != nil {
		return err
	}
	defer st.Close()
	if account != "" {
		a, err := resolveAccount(ctx, st, account)
		if err != nil {
			return err
		}
		opts.Account = a.UUID
	}
	if err := signer.EnsureKey(ctx); err != nil {
		return fmt.Errorf("tree key: %w", kekHint(err))
	}
	days, err := integrity.Archive(ctx, st, signer, dir, opts)
	for _, d := range days {
		fmt.Fprintf(env.Stdout, "%s %s: %d events\n", d.Account, d.Day, d.Events)
	}
	if err != nil {
		return kekHint(err)
	}
	fmt.Fprintf(env.Stderr, "%d days archived in %s\n", len(days), dir)
	return nil
}

func archiveVerify(ctx context.Context, env Env, args []string) error {
	var keyFile string
	fs := newFlagSet(env, "archive verify", archiveUsage)
	fs.StringVar(&keyFile, "public-key", "", "the tree keys' public keys: a JWKS `FILE`, as \"logbook keys tree-public\" writes it")
	// DIR may come before the flags, as the usage shows it.
	var dir string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		dir, args = args[0], args[1:]
	}
	if err := parseFlags(fs, env, args, true); err != nil {
		return err
	}
	if dir == "" && fs.NArg() > 0 {
		dir = fs.Arg(0)
	}
	if dir == "" || keyFile == "" || fs.NArg() > 1 || (fs.NArg() == 1 && dir != fs.Arg(0)) {
		return usagef("want: logbook archive verify DIR --public-key FILE")
	}
	jwks, err := os.ReadFile(keyFile)
	if err != nil {
		return usagef("--public-key: %v", err)
	}
	keys, err := token.ParseJWKS(jwks)
	if err != nil {
		return usagef("--public-key: %v", err)
	}
	chains, err := integrity.VerifyArchive(dir, keys)
	if err != nil {
		return err
	}
	failed := 0
	for _, c := range chains {
		for _, p := range c.Problems {
			fmt.Fprintf(env.Stdout, "FAIL %s %s\n", c.Account, p)
		}
		if len(c.Problems) > 0 {
			failed++
			continue
		}
		var heads []string
		for _, h := range c.Heads {
			heads = append(heads, fmt.Sprintf("%s %d root %s", h.Stream, h.TreeSize, h.Root))
		}
		fmt.Fprintf(env.Stdout, "ok   %s: %d days, %s to %s; at the end: %s\n", c.Account, c.Days, c.First, c.Last, strings.Join(heads, ", "))
	}
	if failed > 0 {
		return fmt.Errorf("archive verify: %d of %d accounts have problems", failed, len(chains))
	}
	fmt.Fprintf(env.Stderr, "%d accounts verified\n", len(chains))
	return nil
}
