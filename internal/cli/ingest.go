package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/ingest"
)

const ingestUsage = `
Usage: logbook ingest [--kind K] [--account A] [flags] FILE...

Reads events from files ("-" for stdin), each a JSON array or NDJSON (one
event per line, or the simulator's {"kind":…,"event":…} lines), validates
them as the ingestion API does (docs/ingest.md), and appends them straight
into the store in batches of 1,000. --kind is required unless every line
carries its kind. Events already stored (same uuid and timestamp) are
skipped, and an event without uuid gets one derived from its content, so
loading a file twice stores it once. The first invalid event stops the
run with its file, line, field and reason; what was loaded before it
stays, and loading the fixed file again adds only the rest.

Examples:
  logbook simulate --backfill 7d --out week.ndjson && logbook ingest week.ndjson
  logbook ingest --kind auditevents --account Acme audit.json
`

func runIngest(ctx context.Context, env Env, args []string) error {
	var sf storeFlags
	var account, kind string
	fs := newFlagSet(env, "ingest", ingestUsage)
	sf.register(fs)
	fs.StringVar(&account, "account", "", "account `NAME|UUID` (default: the only account)")
	fs.StringVar(&kind, "kind", "", "event `kind`: signinattempts, itemusages or auditevents (default: from each line's envelope)")
	if err := parseFlags(fs, env, args, true); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		return usagef("ingest: give at least one FILE (or - for stdin)")
	}
	var f events.Feature
	if kind != "" {
		var err error
		if f, err = events.ParseFeature(kind); err != nil {
			return usagef("--kind: %v", err)
		}
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
	var total ingest.Result
	start := time.Now()
	for _, name := range files {
		res, err := ingestFile(ctx, env, st, acct.UUID, f, name)
		total.Accepted += res.Accepted
		total.Duplicates += res.Duplicates
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(env.Stderr, "%s: %d new events, %d already stored\n", name, res.Accepted, res.Duplicates)
	}
	el := time.Since(start)
	fmt.Fprintf(env.Stderr, "Ingested %d events (%d duplicates) into %s in %s (%.0f events/s).\n",
		total.Accepted, total.Duplicates, acct.Name, el.Round(time.Millisecond), float64(total.Accepted+total.Duplicates)/el.Seconds())
	warnOutsideWindow(ctx, env, st, acct.UUID, acct.Name, time.Now())
	return nil
}

func ingestFile(ctx context.Context, env Env, st ingest.Store, account string, kind events.Feature, name string) (ingest.Result, error) {
	var r io.Reader = env.Stdin
	var size int64 = -1
	if name != "-" {
		fh, err := os.Open(name)
		if err != nil {
			return ingest.Result{}, err
		}
		defer fh.Close()
		if fi, err := fh.Stat(); err == nil {
			size = fi.Size()
		}
		r = fh
	}
	if out, ok := env.Stderr.(*os.File); ok && term.IsTerminal(int(out.Fd())) {
		bar := progressbar.NewOptions64(size,
			progressbar.OptionSetWriter(out),
			progressbar.OptionSetDescription(name),
			progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
		defer bar.Finish()
		r = io.TeeReader(r, bar)
	}
	return ingest.Load(ctx, st, account, kind, r, nil)
}
