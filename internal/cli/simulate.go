package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/simulate"
	"github.com/logbookhq/logbook/internal/store"
)

const simulateUsage = `
Usage: logbook simulate [--data DIR | --db URL] [--account NAME] [--seed N] [--start TIME]
                        (--backfill 30d | --live [--rate N/min]) [--users N] [--out FILE]

Generates a realistic organisation (people, groups, shared and private
vaults, devices, apps and places around the world) and its activity: sign-in
attempts of every category, item usages that reach the server minutes to
hours late, and admin actions across the audit catalogue.

The same --seed and --start give the same events. --backfill generates a
span of time as fast as it can (with a progress bar on a terminal); --live
catches up from --start (by default an hour ago, so that recent activity
shows at once, even at night or on a weekend when people are quiet) to now,
then keeps generating in real time until interrupted: on Ctrl-C (SIGINT) or
SIGTERM it writes what it generated, prints its summary and exits 0. An
interrupted --backfill stops within a simulated hour, keeps what it already
wrote and exits 130.

Events go into the store, in the account named by --account (created if
missing), or with --out as NDJSON, one {"kind":…,"event":…} per line ("-"
for standard output).

Examples:
  logbook simulate --seed 1 --start 2026-01-01T00:00:00Z --backfill 30d
  logbook simulate --account Acme --live --rate 120/min
  logbook simulate --seed 7 --start 2026-03-02T00:00:00Z --backfill 2d --out events.ndjson
`

type simulateFlags struct {
	store    storeFlags
	account  string
	seed     int64
	start    string
	backfill string
	live     bool
	rate     string
	users    int
	out      string
}

// simClock is the time source of simulate: the real one, or a test's.
type simClock struct {
	now func() time.Time
	// ticker returns the channel that paces --live and a stop function.
	ticker func() (<-chan time.Time, func())
}

var realClock = simClock{
	now: time.Now,
	ticker: func() (<-chan time.Time, func()) {
		t := time.NewTicker(time.Second)
		return t.C, t.Stop
	},
}

func runSimulate(ctx context.Context, env Env, args []string) error {
	return simulateWith(ctx, env, args, realClock)
}

// simulatePlan is the validated command line.
type simulatePlan struct {
	cfg  simulate.Config
	end  time.Time // backfill only
	live bool
}

func (f *simulateFlags) plan(now time.Time) (simulatePlan, error) {
	var p simulatePlan
	if (f.backfill == "") == !f.live {
		return p, usagef("simulate: give either --backfill DURATION or --live")
	}
	if f.rate != "" && !f.live {
		return p, usagef("--rate: only with --live")
	}
	if f.users < 0 {
		return p, usagef("--users: %d is negative", f.users)
	}
	p.cfg = simulate.Config{Seed: f.seed, Users: f.users}
	if f.rate != "" {
		if f.users != 0 {
			return p, usagef("--users: give --users or --rate, not both")
		}
		r, err := parseRate(f.rate)
		if err != nil {
			return p, usagef("--rate: %v", err)
		}
		if r > maxLiveRate {
			return p, usagef("--rate: %s is more than the simulator generates live (at most %d/min, or 10/s)", f.rate, maxLiveRate)
		}
		p.cfg.Users, p.cfg.Intensity = simulate.ForRate(r)
	}
	var span time.Duration
	if f.backfill != "" {
		d, err := parseSpan(f.backfill)
		if err != nil {
			return p, usagef("--backfill: %v", err)
		}
		span = d
	}
	switch {
	case f.start != "":
		t, err := time.Parse(time.RFC3339Nano, f.start)
		if err != nil {
			return p, usagef("--start: %q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", f.start)
		}
		p.cfg.Start = t.UTC()
	case f.live:
		p.cfg.Start = now.UTC().Add(-liveLead)
	default:
		p.cfg.Start = now.UTC().Add(-span).Truncate(time.Hour)
	}
	p.end = p.cfg.Start.Add(span)
	p.live = f.live
	if f.live && p.cfg.Start.After(now) {
		return p, usagef("--start: %s is in the future", p.cfg.Start.Format(time.RFC3339))
	}
	return p, nil
}

// liveLead is how far back --live starts by default. Activity follows
// people's working hours and weeks: starting at now, a weekend night at
// 120/min could show nothing for minutes, which looks like a hang; the
// last hour's events come out at once instead.
const liveLead = time.Hour

// maxLiveRate is the largest --rate, in events per minute. The
// organisation grows with the rate (about 32 people per event a minute):
// at 600/min its 19,000 people are built and their first hour generated
// in a few seconds on one core, and the first events follow within
// seconds. Beyond, start-up grows faster than the organisation.
const maxLiveRate = 600

// parseSpan reads "30d", "12h", "90m" or any Go duration.
func parseSpan(s string) (time.Duration, error) { return admin.ParseSpan(s) }

// parseRate reads "120/min", "2/s", "600/h" or a bare number per minute.
func parseRate(s string) (float64, error) {
	num, unit, _ := strings.Cut(s, "/")
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive rate such as 120/min", s)
	}
	switch unit {
	case "", "min", "m":
		return n, nil
	case "s", "sec":
		return n * 60, nil
	case "h", "hour":
		return n / 60, nil
	}
	return 0, fmt.Errorf("%q: unit %q is not s, min or h", s, unit)
}

// eventSink is where simulated events go: the store or an NDJSON file.
type eventSink interface {
	add(ctx context.Context, it simulate.Item) error
	// flush makes everything added so far durable.
	flush(ctx context.Context) error
}

// storeSink appends events to the store through a background
// ingest.Writer, so that generating and encoding the next batch overlaps
// writing this one.
type storeSink struct{ *ingest.Writer }

func (s storeSink) add(ctx context.Context, it simulate.Item) error { return s.Add(ctx, it.Event) }
func (s storeSink) flush(ctx context.Context) error                 { return s.Flush(ctx) }

// backfillBatch is the number of events per append of the simulator's
// store sink: as for file loading, nobody waits on each commit, and a
// commit's sync costs less per event in larger transactions (backfill went
// from 49-51k to 56-59k events/s with 5,000 instead of 1,000). Live mode flushes
// what it has at each tick.
const backfillBatch = 5000

type ndjsonSink struct {
	w    *bufio.Writer
	sync func() error
	line []byte
}

func (s *ndjsonSink) add(_ context.Context, it simulate.Item) error {
	w, err := events.Encode(it.Event)
	if err != nil {
		return err
	}
	s.line = append(s.line[:0], `{"kind":"`...)
	s.line = append(s.line, w.Feature...)
	s.line = append(s.line, `","event":`...)
	s.line = append(s.line, w.V2...)
	s.line = append(s.line, "}\n"...)
	_, err = s.w.Write(s.line)
	return err
}

func (s *ndjsonSink) flush(context.Context) error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	return s.sync()
}

func simulateWith(ctx context.Context, env Env, args []string, clock simClock) error {
	var f simulateFlags
	fs := newFlagSet(env, "simulate", simulateUsage)
	f.store.register(fs)
	fs.StringVar(&f.account, "account", "Simulated", "`name` of the account to fill (created if missing); with --out, an account UUID to put in events")
	fs.Int64Var(&f.seed, "seed", 1, "seed `N`: the same seed and start give the same events")
	fs.StringVar(&f.start, "start", "", "`time` the simulation starts, RFC 3339 (default: now minus --backfill, or an hour ago with --live)")
	fs.StringVar(&f.backfill, "backfill", "", "generate this `span` of time (30d, 12h) as fast as possible")
	fs.BoolVar(&f.live, "live", false, "catch up to now, then generate in real time until interrupted")
	fs.StringVar(&f.rate, "rate", "", "with --live, about this many events per minute on average (`N/min`, N/s or N/h; at most 600/min); sets the organisation's size, so not with --users")
	fs.IntVar(&f.users, "users", 0, "number of people in the organisation (default 40)")
	fs.StringVar(&f.out, "out", "", "write NDJSON to this `file` (\"-\" for standard output) instead of the store")
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	p, err := f.plan(clock.now())
	if err != nil {
		return err
	}

	var (
		sink  eventSink
		where string
	)
	if f.out != "" {
		if events.ValidUpperID(f.account) {
			p.cfg.AccountUUID = f.account
		}
		var w io.Writer = env.Stdout
		sync := func() error { return nil }
		if f.out != "-" {
			file, err := os.OpenFile(f.out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			defer file.Close()
			w = file
			if fi, err := file.Stat(); err == nil && fi.Mode().IsRegular() {
				sync = file.Sync // not /dev/null or a pipe
			}
		}
		sink, where = &ndjsonSink{w: bufio.NewWriterSize(w, 256<<10), sync: sync}, f.out
	}
	sim := simulate.New(p.cfg)
	var ws *ingest.Writer
	if f.out == "" {
		st, err := f.store.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		acct, created, err := simulationAccount(ctx, st, f.account, sim.AccountUUID(), clock.now())
		if err != nil {
			return err
		}
		if created {
			// A new account has no owner, so no token can read it yet:
			// say what makes it readable.
			fmt.Fprintf(env.Stderr, "created account %q; to read its events over the API, add its first owner, then a token:\n"+
				"  logbook user add --account %q --role owner --email EMAIL\n"+
				"  logbook token issue --account %q --name NAME\n", f.account, f.account, f.account)
		}
		if acct != sim.AccountUUID() {
			p.cfg.AccountUUID = acct
			sim = simulate.New(p.cfg)
		}
		ws = ingest.NewBackgroundWriter(ctx, st, acct, backfillBatch)
		defer func() {
			// The writer drains first, so the count sees every batch, an
			// interrupted run's included.
			ws.Close()
			warnOutsideWindow(context.WithoutCancel(ctx), env, st, acct, f.account, clock.now())
		}()
		sink, where = storeSink{ws}, fmt.Sprintf("account %q (%s) in %s", f.account, acct, f.store.describe())
	}

	counts := map[events.Feature]int{}
	emit := func(it simulate.Item) error {
		counts[it.Feature]++
		return sink.add(ctx, it)
	}
	began := time.Now()
	to := p.end
	if p.live {
		to = clock.now()
	}
	stopped := false
	if err := backfill(ctx, env, sim, p.cfg.Start, to, emit); err != nil {
		if !p.live || ctx.Err() == nil {
			return err
		}
		// Interrupted while catching up: for --live that is the usual
		// end, so keep what was generated and report it.
		stopped = true
		if pos := sim.Position(); pos.Before(to) {
			to = pos
		}
	}
	if err := sink.flush(ctx); err != nil {
		return err
	}
	if p.live && !stopped {
		fmt.Fprintf(env.Stderr, "caught up to %s; generating live (Ctrl-C to stop)\n", to.UTC().Format(time.RFC3339))
		to, err = simulateLive(ctx, sim, sink, emit, clock, to)
		if err != nil {
			return err
		}
	}
	total := counts[events.SignInAttempts] + counts[events.ItemUsages] + counts[events.AuditEvents]
	elapsed := time.Since(began)
	fmt.Fprintf(env.Stdout, "simulated %d events (%d sign-in attempts, %d item usages, %d audit events) from %s to %s into %s",
		total, counts[events.SignInAttempts], counts[events.ItemUsages], counts[events.AuditEvents],
		p.cfg.Start.Format(time.RFC3339), to.UTC().Format(time.RFC3339), where)
	if ws != nil {
		fmt.Fprintf(env.Stdout, "; %d new", ws.Inserted) // read after the last flush's ack
	}
	if !p.live && elapsed > 0 {
		fmt.Fprintf(env.Stdout, "; %.0f events/s", float64(total)/elapsed.Seconds())
	}
	fmt.Fprintln(env.Stdout)
	return nil
}

// simulationAccount returns the UUID of the account called name, creating
// it with the simulator's UUID when there is none (created is then true).
func simulationAccount(ctx context.Context, st store.AccountStore, name, uuid string, now time.Time) (acct string, created bool, err error) {
	if name == "" {
		return "", false, usagef("--account: empty name")
	}
	a, err := st.AccountByName(ctx, name)
	if err == nil {
		return a.UUID, false, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", false, fmt.Errorf("account %q: %w", name, err)
	}
	if _, err := st.Account(ctx, uuid); err == nil {
		// The seed's account uuid is another account's (same seed, another
		// --account): this one gets a uuid of its own.
		uuid = events.NewID()
	}
	if err := st.CreateAccount(ctx, store.Account{UUID: uuid, Name: name, CreatedAt: now.UTC()}); err != nil {
		return "", false, fmt.Errorf("create account %q: %w", name, err)
	}
	return uuid, true, nil
}

// backfill runs the simulation from start to end, with a progress bar over
// simulated time when standard error is a terminal.
func backfill(ctx context.Context, env Env, sim *simulate.Sim, start, end time.Time, emit func(simulate.Item) error) error {
	var bar *progressbar.ProgressBar
	if f, ok := env.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && end.Sub(start) > time.Hour {
		bar = progressbar.NewOptions64(int64(end.Sub(start)/time.Minute),
			progressbar.OptionSetWriter(f),
			progressbar.OptionSetDescription("simulating"),
			progressbar.OptionSetItsString("sim-min"),
			progressbar.OptionShowIts(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
		defer bar.Finish()
	}
	n := 0
	// Run a simulated hour at a time so that an interrupt is noticed.
	for at := start; at.Before(end); {
		next := at.Truncate(time.Hour).Add(time.Hour)
		if next.After(end) {
			next = end
		}
		err := sim.Run(next, func(it simulate.Item) error {
			n++
			return emit(it)
		})
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		at = next
		if bar != nil {
			_ = bar.Set64(int64(at.Sub(start) / time.Minute))
		}
	}
	return nil
}

// simulateLive advances the simulation to the clock's now on every tick
// and flushes, until ctx is done. It returns the last time reached.
func simulateLive(ctx context.Context, sim *simulate.Sim, sink eventSink, emit func(simulate.Item) error, clock simClock, last time.Time) (time.Time, error) {
	ticks, stop := clock.ticker()
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return last, nil
		case <-ticks:
		}
		now := clock.now()
		if err := sim.Run(now, emit); err != nil {
			return last, err
		}
		if err := sink.flush(ctx); err != nil {
			return last, err
		}
		last = now
	}
}
