package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/logbookhq/logbook/internal/api"
	"github.com/logbookhq/logbook/internal/scorecard"
	"github.com/logbookhq/logbook/internal/store"
)

const scorecardUsage = `
Usage: logbook scorecard (--token-name NAME | --token ID) [--account A] [--json] [flags]

Prints the connector scorecard of a token: per stream, the events available
and those delivered (distinct), events delivered more than once, requests
made within the spin window after a drained reply (has_more false), 429s
received and whether the connector waited for Retry-After. Servers write
scorecards to the database every 30 seconds and when they stop, so the
numbers printed may miss the last 30 seconds: the output says when they
were written (written_at with --json). The admin API's
GET /admin/api/v1/tokens/ID/scorecard is always current. See
docs/sandbox.md.
`

func runScorecard(ctx context.Context, env Env, args []string) error {
	var sf storeFlags
	var account, name, id string
	var asJSON bool
	var retention time.Duration
	fs := newFlagSet(env, "scorecard", scorecardUsage)
	sf.register(fs)
	fs.StringVar(&account, "account", "", "look for the token in this account only (`NAME|UUID`; default: every account)")
	fs.StringVar(&name, "token-name", "", "the token's `name`")
	fs.StringVar(&id, "token", "", "the token's `id` (jti)")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	fs.DurationVar(&retention, "retention", api.DefaultRetention, "count available events this far back")
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	if (name == "") == (id == "") {
		return usagef("give one of --token-name and --token")
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	toks, where, err := tokensOf(ctx, st, account)
	if err != nil {
		return err
	}
	var match []store.Token
	for _, t := range toks {
		if t.ID == id || (name != "" && t.Name == name) {
			match = append(match, t)
		}
	}
	switch {
	case len(match) == 0 && id != "":
		return fmt.Errorf("not found: --token: no token %q in %s", id, where)
	case len(match) == 0:
		return fmt.Errorf("not found: --token-name: no token named %q in %s", name, where)
	case len(match) > 1:
		ids := make([]string, len(match))
		for i, t := range match {
			ids[i] = t.ID
		}
		return usagef("--token-name: %d tokens are named %q (%s); give --token ID", len(match), name, strings.Join(ids, ", "))
	}
	sc, err := scorecard.Report(ctx, st, match[0], time.Now().Add(-retention))
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(env.Stdout, sc)
	}
	w := env.Stdout
	fmt.Fprintf(w, "Token %s (%s): %d requests\n", sc.TokenName, sc.TokenID, sc.Requests)
	// Servers write their numbers every DefaultScorecardFlush: say how
	// old these are, and where current ones are.
	if sc.WrittenAt.IsZero() {
		fmt.Fprintf(w, "No server has written this token's scorecard yet (servers write every %s and when they stop).\n", DefaultScorecardFlush)
	} else {
		fmt.Fprintf(w, "As of %s (%s ago), when a server last wrote it; servers write every %s and when they stop.\n",
			when(sc.WrittenAt), time.Since(sc.WrittenAt).Round(time.Second), DefaultScorecardFlush)
	}
	fmt.Fprintf(w, "For the numbers of this moment: GET /admin/api/v1/tokens/%s/scorecard on a running server.\n\n", sc.TokenID)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tAVAILABLE\tDELIVERED\tREPLAYED\tREQUESTS\tSPINS")
	for _, s := range sc.Streams {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", s.Feature, s.Available, s.Delivered, s.Replayed, s.Requests, s.Spins)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\n429s received: %d (Retry-After honoured %d, ignored %d); 5xx received: %d\n",
		sc.TooMany.Received, sc.TooMany.RetryAfterHonored, sc.TooMany.RetryAfterIgnored, sc.ServerErrors)
	if sc.Clean {
		fmt.Fprintln(w, "Clean: no replays, no spinning, every Retry-After honoured.")
		return nil
	}
	fmt.Fprintln(w, "Problems:")
	for _, p := range sc.Problems {
		fmt.Fprintf(w, "  - %s\n", p)
	}
	return nil
}
