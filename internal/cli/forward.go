package cli

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const forwardUsage = `
Usage:
  logbook forward --config FILE [--once] [--dry-run] [--progress-interval D]
  logbook forward validate --config FILE
  logbook forward cursor show|export --config FILE
  logbook forward cursor rewind --config FILE --to TIME [--source NAME] [--feature F]
  logbook forward cursor import --config FILE [--file F]   (JSON from export; stdin by default)
  logbook forward backfill --config FILE --source NAME --from TIME [--to TIME] [--feature F] [--job NAME]

Forward polls Events APIs (1Password's or Logbook's) and delivers every
event to the configured sinks, at least once. A stream's cursor is saved
only after every sink confirmed the page (or the page is in the on-disk
spool), so a crash repeats at most the pages in flight and loses nothing.

Without --once, forward runs until SIGINT or SIGTERM, logging every
--progress-interval what each stream delivered (or "idle" once, when
nothing moved). When it stops, it logs a summary: per stream the events,
pages and duplicates skipped, per sink the events confirmed, dead letters
and batches left in the spool, then the totals and the time taken.

--once forwards until every stream is drained, logs the summary, then
exits (for cron). An error no retry will cure (a revoked or expired
token, a 403/404/other 4xx, plain HTTP behind an https:// URL, an
untrusted certificate, an unknown host) ends the run at once with exit
status 1 and one line saying what to fix. Temporary errors (429, 5xx,
408, refused connections, timeouts) are retried with backoff, as without
--once; a cron run that overlaps a previous one stuck on them fails at
once because the state directory is locked.
--dry-run reads the configuration, opens the sources, fetches one page per
stream and prints what it would forward; it writes nothing.

The configuration file is described in docs/forward.md.
`

func runForward(ctx context.Context, env Env, args []string) error {
	return dispatchOr(ctx, env, "forward", forwardUsage, args, map[string]subcommand{
		"validate": runForwardValidate,
		"cursor":   runForwardCursor,
		"backfill": runForwardBackfill,
	}, runForwardMain)
}

func runForwardMain(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "forward", forwardUsage)
	config := fs.String("config", "forward.yaml", "configuration `file`")
	once := fs.Bool("once", false, "stop when every stream is drained")
	dryRun := fs.Bool("dry-run", false, "fetch one page per stream and print it; write nothing")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	progress := fs.String("progress-interval", "", "log what each stream delivered every `duration` while running; 0 never\n(default: progress_interval in the configuration, else 1m)")
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	cfg, err := forward.LoadConfig(*config, sinkTypes, env.Getenv)
	if err != nil {
		return err
	}
	if *progress != "" {
		d, err := time.ParseDuration(*progress)
		if err != nil || d < 0 {
			return usagef("--progress-interval: %q is not a duration such as 30s or 5m (0 turns the reports off)", *progress)
		}
		cfg.ProgressInterval = &d
	}
	log, err := forwardLogger(env, cfg, *logFormat)
	if err != nil {
		return err
	}
	if *dryRun {
		return forwardDryRun(ctx, env, cfg)
	}
	return runForwarder(ctx, env, cfg, log, *once, nil)
}

// forwardLogger is the forwarder's logger: at the configuration's
// log_level (default info), in format (text or json).
func forwardLogger(env Env, cfg *forward.Config, format string) (*slog.Logger, error) {
	level := cfg.LogLevel
	if level == "" {
		level = "info"
	}
	return newLogger(env, level, format)
}

// runForwarder runs the live streams, or a backfill when bf is set.
func runForwarder(ctx context.Context, env Env, cfg *forward.Config, log *slog.Logger, once bool, bf *backfillJob) error {
	stateDir := cfg.StateDir
	if bf != nil {
		// A backfill keeps its own cursors and spools, so it runs beside
		// the live forwarder without touching its cursors.
		stateDir = filepath.Join(cfg.StateDir, "backfill", bf.job)
	}
	unlock, err := forward.LockState(stateDir)
	if err != nil {
		return err
	}
	defer unlock()
	sinks, err := cfg.OpenSinks(func(name string) *slog.Logger { return log.With("sink", name) })
	if err != nil {
		return err
	}
	// Run closes the sinks; until it has them, closing is ours.
	running := false
	defer func() {
		if running {
			return
		}
		for _, s := range sinks {
			if err := s.Close(); err != nil {
				log.Error("close sink", "sink", s.Name(), "err", err)
			}
		}
	}()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts := forward.Options{
		Sinks: sinks, StateDir: stateDir, SpoolMaxBytes: cfg.SpoolMaxBytes, DeadLetterDir: cfg.DeadLetterDir,
		Once: once, OnceDrainTimeout: cfg.OnceDrainTimeout, BackoffInitial: cfg.BackoffInitial, BackoffMax: cfg.BackoffMax,
		PausedRetry: cfg.PausedRetry, Logger: log, Registerer: reg, ProgressInterval: progressInterval(cfg),
		// In the main state directory even for a backfill, so that the
		// live forwarder and its backfills share each account's budget.
		BudgetDir: filepath.Join(cfg.StateDir, "budget"),
	}
	for _, sc := range cfg.Sources {
		so, err := sourceOptions(sc)
		if err != nil {
			return err
		}
		if bf != nil {
			if sc.Name != bf.source {
				continue
			}
			so.StartTime, so.EndTime = bf.from, bf.to
			if bf.feature != "" {
				so.Features = []events.Feature{bf.feature}
			}
		}
		opts.Sources = append(opts.Sources, so)
	}
	if bf != nil {
		if len(opts.Sources) == 0 {
			return usagef("--source %q: no such source in the configuration", bf.source)
		}
		opts.Once = true
	}
	f, err := forward.New(opts)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if cfg.MetricsListen != "" {
		ln, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			return fmt.Errorf("metrics_listen: %w", err)
		}
		srv := &http.Server{Handler: forwardHTTP(f, reg), ReadHeaderTimeout: 10 * time.Second}
		served := make(chan struct{})
		go func() {
			defer close(served)
			// Serve fails only when the listener does; a forwarder whose
			// health and metrics are gone stops rather than run unseen.
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				cancel(fmt.Errorf("metrics_listen %s: %w", ln.Addr(), err))
			}
		}()
		defer func() {
			srv.Close()
			<-served
		}()
		log.Info("metrics listening", "addr", ln.Addr().String())
	}
	running = true
	err = f.Run(ctx)
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if once && err == nil && ctx.Err() != nil {
		// Stopped by a signal before every stream drained: not the
		// success a finished --once reports (main exits 130).
		return ctx.Err()
	}
	if errors.Is(err, context.Canceled) && !once {
		return nil
	}
	return err
}

// progressInterval maps the configuration's progress_interval to
// forward.Options: unset is the default, 0 is never.
func progressInterval(cfg *forward.Config) time.Duration {
	switch {
	case cfg.ProgressInterval == nil:
		return 0
	case *cfg.ProgressInterval == 0:
		return -1
	}
	return *cfg.ProgressInterval
}

func forwardHTTP(f *forward.Forwarder, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		f.Observe()
		metrics.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := f.Ready(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	return mux
}

// clientSource adapts the public client to forward.Source. When the token
// comes from a file, Refresh re-reads it after a 401, so an operator can
// replace a revoked or expired token without restarting the forwarder.
type clientSource struct {
	url, tokenFile string
	opts           []client.Option

	mu    sync.Mutex
	c     *client.Client
	token string
}

var (
	_ forward.Refresher      = (*clientSource)(nil)
	_ forward.BufferedSource = (*clientSource)(nil)
)

func (s *clientSource) client() *client.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c
}

func (s *clientSource) Introspect(ctx context.Context) (events.Introspection, error) {
	in, err := s.client().Introspect(ctx)
	return in, sourceError(err)
}

func (s *clientSource) Page(ctx context.Context, f events.Feature, r forward.Request) (events.RawPage, error) {
	req := client.Request{Cursor: r.Cursor, Reset: events.ResetCursor{Limit: r.Limit, StartTime: r.Start, EndTime: r.End}}
	p, err := s.client().RawPage(ctx, f, req)
	return p, sourceError(err)
}

func (s *clientSource) PageInto(ctx context.Context, f events.Feature, r forward.Request, buf []byte) (events.RawPage, []byte, error) {
	req := client.Request{Cursor: r.Cursor, Reset: events.ResetCursor{Limit: r.Limit, StartTime: r.Start, EndTime: r.End}}
	p, buf, err := s.client().RawPageInto(ctx, f, req, buf)
	return p, buf, sourceError(err)
}

// Refresh implements forward.Refresher: it re-reads token_file and
// reports whether the token changed.
func (s *clientSource) Refresh() (bool, error) {
	if s.tokenFile == "" {
		return false, nil
	}
	tok, err := forward.ReadSecret("token", s.tokenFile, "", nil)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) == 1 {
		return false, nil
	}
	c, err := client.New(s.url, tok, s.opts...)
	if err != nil {
		return false, fmt.Errorf("token_file: %w", err)
	}
	s.c, s.token = c, tok
	return true, nil
}

func sourceError(err error) error {
	var ce *client.Error
	if errors.As(err, &ce) {
		return &forward.SourceError{StatusCode: ce.StatusCode, RetryAfter: ce.RetryAfter, Message: ce.Message, Err: err}
	}
	return err
}

func sourceOptions(sc forward.SourceConfig) (forward.SourceOptions, error) {
	c, opts, err := sourceClient(sc)
	if err != nil {
		return forward.SourceOptions{}, err
	}
	src := &clientSource{url: sc.URL, opts: opts, c: c, token: sc.Token}
	src.tokenFile = sc.TokenFile
	start := time.Now().Add(-forward.DefaultRetention)
	if sc.StartTime != nil {
		start = *sc.StartTime
	}
	so := forward.SourceOptions{
		Name: sc.Name, Source: src, Features: sc.ParsedFeatures, StartTime: start,
		Limit: sc.Limit, PollInterval: sc.PollInterval, Account: c.BaseURL(), Limits: sc.RateLimit,
	}
	if sc.Verify {
		so.Verify = forward.NewWitnessVerifier(sc.TreeKeys, src.client)
	}
	return so, nil
}

// sourceClient is the client of a configured source, and its options.
func sourceClient(sc forward.SourceConfig) (*client.Client, []client.Option, error) {
	var opts []client.Option
	opts = append(opts, client.WithUserAgent("logbook-forward/"+version()))
	if sc.APIVersion != 0 {
		opts = append(opts, client.WithAPIVersion(sc.APIVersion))
	}
	if sc.CAFile != "" {
		opts = append(opts, client.WithRootCAFile(sc.CAFile))
	}
	if sc.Proxy != "" {
		opts = append(opts, client.WithProxy(sc.Proxy))
	}
	c, err := client.New(sc.URL, sc.Token, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("source %s: %w", sc.Name, err)
	}
	return c, opts, nil
}

func forwardDryRun(ctx context.Context, env Env, cfg *forward.Config) error {
	sinks, err := cfg.OpenSinks(func(string) *slog.Logger { return slog.New(slog.DiscardHandler) })
	if err != nil {
		return err
	}
	for _, s := range sinks {
		s.Close()
	}
	cp := forward.Cursors(cfg.StateDir)
	for _, sc := range cfg.Sources {
		so, err := sourceOptions(sc)
		if err != nil {
			return err
		}
		in, err := so.Source.Introspect(ctx)
		if err != nil {
			if pe := forward.Diagnose(sc.Name, err); pe != nil {
				return pe
			}
			return fmt.Errorf("source %s: %w", sc.Name, err) // the client's error starts "introspect: "
		}
		fmt.Fprintf(env.Stdout, "source %s: features %s\n", sc.Name, events.JoinFeatures(in.Features))
		for _, ft := range in.Features {
			if len(so.Features) > 0 && !events.In(string(ft), featureStrings(so.Features)) {
				continue
			}
			req := forward.Request{Limit: so.Limit, Start: &so.StartTime}
			from := "start_time " + so.StartTime.UTC().Format(time.RFC3339)
			if st, ok, err := cp.Load(sc.Name, ft); err != nil {
				return err
			} else if ok {
				req = forward.Request{Cursor: st.Cursor, Start: st.StartTime, Limit: so.Limit}
				from = "saved cursor"
			}
			p, err := so.Source.Page(ctx, ft, req)
			if err != nil {
				if pe := forward.Diagnose(sc.Name, err); pe != nil {
					pe.Feature = ft
					return pe
				}
				return fmt.Errorf("source %s %s: %w", sc.Name, ft, err)
			}
			fmt.Fprintf(env.Stdout, "  %s from %s: %d events in the first page, has_more %v\n", ft, from, len(p.Items), p.HasMore)
		}
	}
	names := make([]string, len(sinks))
	for i, s := range sinks {
		names[i] = s.Name()
	}
	fmt.Fprintf(env.Stdout, "sinks: %s (nothing written: dry run)\n", strings.Join(names, ", "))
	return nil
}

func featureStrings(fs []events.Feature) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

func runForwardValidate(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "forward validate", forwardUsage)
	config := fs.String("config", "forward.yaml", "configuration `file`")
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	cfg, err := forward.LoadConfig(*config, sinkTypes, env.Getenv)
	if cfg != nil {
		// Check the sinks' options too, so that every problem is listed.
		sinks, serr := cfg.OpenSinks(nil)
		for _, s := range sinks {
			s.Close()
		}
		var a, b *forward.ConfigError
		switch {
		case serr == nil:
		case errors.As(err, &a) && errors.As(serr, &b):
			err = &forward.ConfigError{Errs: append(a.Errs, b.Errs...)}
		case err == nil:
			err = serr
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: OK (%d sources, %d sinks)\n", *config, len(cfg.Sources), len(cfg.Sinks))
	return nil
}

func runForwardCursor(ctx context.Context, env Env, args []string) error {
	subs := map[string]subcommand{}
	for _, sub := range []string{"show", "rewind", "export", "import"} {
		subs[sub] = func(ctx context.Context, env Env, args []string) error { return forwardCursor(ctx, env, sub, args) }
	}
	return dispatch(ctx, env, "forward cursor", forwardUsage, args, subs)
}

func forwardCursor(ctx context.Context, env Env, sub string, args []string) error {
	fs := newFlagSet(env, "forward cursor "+sub, forwardUsage)
	config := fs.String("config", "forward.yaml", "configuration `file`")
	var to, source, feature, file = new(string), new(string), new(string), new(string)
	switch sub {
	case "rewind":
		fs.StringVar(to, "to", "", "RFC 3339 `time` to restart from")
		fs.StringVar(source, "source", "", "only this source")
		fs.StringVar(feature, "feature", "", "only this feature")
	case "import":
		fs.StringVar(file, "file", "", "JSON file from export (default stdin)")
	}
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	cfg, err := forward.LoadConfig(*config, sinkTypes, env.Getenv)
	if err != nil {
		return err
	}
	cp := forward.Cursors(cfg.StateDir)
	switch sub {
	case "show":
		all, err := cp.All()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SOURCE\tFEATURE\tSAVED\tNEWEST EVENT\tEVENTS\tPOSITION")
		for _, st := range all {
			pos := "cursor " + abbreviate(st.Cursor)
			if st.Cursor == "" && st.StartTime != nil {
				pos = "reset from " + st.StartTime.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", st.Source, st.Feature, fmtTime(st.Saved), fmtTime(st.Newest), st.Events, pos)
		}
		return tw.Flush()
	case "export":
		all, err := cp.All()
		if err != nil {
			return err
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	case "rewind", "import":
		unlock, err := forward.LockState(cfg.StateDir)
		if err != nil {
			return err
		}
		defer unlock()
		var states []forward.State
		if sub == "import" {
			var r io.Reader = env.Stdin
			if *file != "" {
				f, err := os.Open(*file)
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			if err := json.NewDecoder(r).Decode(&states); err != nil {
				return fmt.Errorf("import: %w", err)
			}
		} else {
			if *to == "" {
				return usagef("forward cursor rewind: --to is required")
			}
			t, err := time.Parse(time.RFC3339, *to)
			if err != nil {
				return usagef("--to: %q is not an RFC 3339 time", *to)
			}
			states = forward.RewindStates(cfg, *source, *feature, t.UTC())
			if len(states) == 0 {
				return usagef("forward cursor rewind: no stream matches --source %q --feature %q", *source, *feature)
			}
		}
		done := map[bool]string{true: "imported", false: "rewound"}[sub == "import"]
		err = forward.ReplaceStates(cfg.StateDir, states, time.Now, func(st forward.State) {
			fmt.Fprintf(env.Stdout, "%s %s: %s\n", st.Source, st.Feature, done)
		})
		if errors.Is(err, forward.ErrInvalidState) {
			return fmt.Errorf("%s: %w", sub, err)
		}
		return err
	}
	return usagef("forward cursor: unknown subcommand %q (want show, rewind, export or import)", sub)
}

func abbreviate(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

type backfillJob struct {
	job, source string
	feature     events.Feature
	from, to    time.Time
}

func runForwardBackfill(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "forward backfill", forwardUsage)
	config := fs.String("config", "forward.yaml", "configuration `file`")
	source := fs.String("source", "", "source `name` to backfill")
	feature := fs.String("feature", "", "only this feature (default: all the token has)")
	from := fs.String("from", "", "RFC 3339 start `time` (inclusive)")
	to := fs.String("to", "", "RFC 3339 end `time` (exclusive; default now)")
	job := fs.String("job", "", "job `name`; a job with saved progress resumes (default derived from the flags)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	if *source == "" || *from == "" {
		return usagef("forward backfill: --source and --from are required")
	}
	bf := &backfillJob{source: *source, job: *job}
	var err error
	if bf.from, err = time.Parse(time.RFC3339, *from); err != nil {
		return usagef("--from: %q is not an RFC 3339 time", *from)
	}
	bf.to = time.Now().UTC().Truncate(time.Second)
	if *to != "" {
		if bf.to, err = time.Parse(time.RFC3339, *to); err != nil {
			return usagef("--to: %q is not an RFC 3339 time", *to)
		}
	}
	if !bf.to.After(bf.from) {
		return usagef("--to must be after --from")
	}
	if *feature != "" {
		if bf.feature, err = events.ParseFeature(*feature); err != nil {
			return usagef("--feature: %v", err)
		}
	}
	if bf.job == "" {
		bf.job = fmt.Sprintf("%s-%s-%s", *source, bf.from.UTC().Format("20060102T150405Z"), bf.to.UTC().Format("20060102T150405Z"))
		if bf.feature != "" {
			bf.job += "-" + string(bf.feature)
		}
	}
	cfg, err := forward.LoadConfig(*config, sinkTypes, env.Getenv)
	if err != nil {
		return err
	}
	log, err := forwardLogger(env, cfg, *logFormat)
	if err != nil {
		return err
	}
	log = log.With("backfill", bf.job)
	return runForwarder(ctx, env, cfg, log, true, bf)
}
