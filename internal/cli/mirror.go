package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/logbookhq/logbook/internal/forward"
	logbooksink "github.com/logbookhq/logbook/internal/sink/logbook"
)

const mirrorUsage = `
Usage: logbook mirror status [--config forward.yaml] [--json]

A mirror is a forwarder configuration with a sink of type logbook: it
keeps an Events API's events (1Password's, or another Logbook's) in a
Logbook store, which logbook serve then serves (docs/mirror.md).

"status" reads, for each local logbook sink and each source of the
configuration, per stream: the events the mirror holds, the event it
mirrored last, the newest event the source serves from then on, the lag
between them, and how many newer events the source holds (read from the
source, up to 20 pages a stream).
`

func runMirror(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "mirror", mirrorUsage, args, map[string]subcommand{"status": mirrorStatus})
}

// mirrorRow is one stream of "mirror status".
type mirrorRow struct {
	Sink   string `json:"sink"`
	Source string `json:"source"`
	logbooksink.StreamStatus
}

func mirrorStatus(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "mirror status", mirrorUsage)
	config := fs.String("config", "forward.yaml", "the forwarder's configuration `file`")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	cfg, err := forward.LoadConfig(*config, sinkTypes, env.Getenv)
	if err != nil {
		return err
	}
	var rows []mirrorRow
	found := false
	for _, e := range cfg.Sinks {
		if e.Config.Type != "logbook" {
			continue
		}
		found = true
		sk, err := e.New(e.Config)
		if err != nil {
			return fmt.Errorf("%s: %w", e.Path, err)
		}
		err = func() error {
			defer sk.Close()
			for _, sc := range cfg.Sources {
				c, _, err := sourceClient(sc)
				if err != nil {
					return err
				}
				ss, err := sk.(*logbooksink.Sink).Status(ctx, c)
				if err != nil {
					return fmt.Errorf("sink %s, source %s: %w", e.Config.Name, sc.Name, err)
				}
				for _, s := range ss {
					rows = append(rows, mirrorRow{Sink: e.Config.Name, Source: sc.Name, StreamStatus: s})
				}
			}
			return nil
		}()
		if err != nil {
			return err
		}
	}
	if !found {
		return errors.New(*config + ": no sink of type logbook (docs/mirror.md)")
	}
	if *asJSON {
		return printJSON(env.Stdout, rows)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SINK\tSOURCE\tFEATURE\tEVENTS\tLAST EVENT\tLAST TIME\tSOURCE NEWEST\tLAG\tNEWER AT SOURCE")
	for _, r := range rows {
		newer := fmt.Sprint(r.Newer)
		if r.AtLeast {
			newer = "≥" + newer
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", r.Sink, r.Source, r.Feature, r.Count, dash(r.LastUUID),
			when(r.LastTime), when(r.SourceNewest), r.Lag.Round(time.Second), newer)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
