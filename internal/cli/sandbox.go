package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/logbookhq/logbook/internal/api"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/metrics"
	"github.com/logbookhq/logbook/internal/ratelimit"
	"github.com/logbookhq/logbook/internal/sandbox"
	"github.com/logbookhq/logbook/internal/scorecard"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/token"
)

// SandboxOptions configure rate limits, scenarios and the connector
// scorecard of a server. The zero value has no rate limit, no scenario,
// and a scorecard flushed every DefaultScorecardFlush.
type SandboxOptions struct {
	// RateLimits apply per account; nil or all-zero: none.
	RateLimits []ratelimit.Limit
	// RedisURL, when set, keeps rate-limit counters in Redis instead of
	// the store.
	RedisURL string
	// Scenario is loaded at start.
	Scenario *sandbox.Scenario
	// SpinWindow: scorecard.DefaultSpinWindow when zero.
	SpinWindow time.Duration
	// ScorecardFlush is how often scorecards are written to the store.
	ScorecardFlush time.Duration
	// Sleep replaces the timer slow responses wait on (tests).
	Sleep func(ctx context.Context, d time.Duration)
}

// DefaultScorecardFlush is how often a server writes scorecards.
const DefaultScorecardFlush = 30 * time.Second

// sandboxParts are the pieces StartServer plugs into the API.
type sandboxParts struct {
	sandbox *sandbox.Sandbox
	tracker *scorecard.Tracker
	limiter *ratelimit.Limiter
	redis   *ratelimit.RedisCounter
	loaded  *sandbox.Loaded
	cancel  context.CancelFunc
	flushed chan struct{}
}

func newSandboxParts(ctx context.Context, o ServerOptions, tokens *token.Service) (*sandboxParts, error) {
	so := o.Sandbox
	p := &sandboxParts{
		sandbox: sandbox.New(sandbox.Config{Store: o.Store, Tokens: tokens, Now: o.Now, Sleep: so.Sleep, Logger: o.Logger}),
		tracker: scorecard.NewTracker(o.Store, scorecard.TrackerConfig{SpinWindow: so.SpinWindow, Now: o.Now, Logger: o.Logger}),
	}
	var counter ratelimit.Counter = ratelimit.StoreCounter{Store: o.Store}
	if so.RedisURL != "" {
		rc, err := ratelimit.NewRedisCounter(ctx, so.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("--redis: %w", err)
		}
		p.redis, counter = rc, rc
	}
	limits := so.RateLimits
	if limits == nil {
		limits = []ratelimit.Limit{}
	}
	p.limiter = ratelimit.New(ratelimit.Config{Limits: limits, Counter: counter, Now: o.Now, Logger: o.Logger,
		Refused: func(r *http.Request, d ratelimit.Decision) { noteReason(r, rateLimitReason(d.Window)) }})
	if so.Scenario != nil {
		l, err := p.sandbox.Load(ctx, so.Scenario)
		if err != nil {
			p.close(o.Logger)
			return nil, fmt.Errorf("--scenario: %w", err)
		}
		p.loaded = &l
	}
	flush := so.ScorecardFlush
	if flush <= 0 {
		flush = DefaultScorecardFlush
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.cancel, p.flushed = cancel, make(chan struct{})
	go func() {
		defer close(p.flushed)
		p.tracker.Run(runCtx, flush, func(err error) { o.Logger.Warn("scorecard flush", "err", err) })
	}()
	return p, nil
}

// guard runs the scorecard around the rate limiter, then the scenario.
func (p *sandboxParts) guard() func(http.ResponseWriter, *http.Request, api.Call) bool {
	return p.tracker.Guard(func(w http.ResponseWriter, r *http.Request, call api.Call) bool {
		if p.limiter.Guard(w, r, call) {
			return true
		}
		if p.sandbox.Guard(w, r, call) {
			noteReason(r, metrics.ReasonScenario)
			return true
		}
		return false
	})
}

// rateLimitReason is the metrics reason of a 429 from the rate-limit
// window of length per.
func rateLimitReason(per time.Duration) string {
	switch per {
	case time.Minute:
		return metrics.ReasonRatePerMinute
	case time.Hour:
		return metrics.ReasonRatePerHour
	}
	return metrics.ReasonRateLimit
}

func (p *sandboxParts) observe(call api.Call, served api.Served) {
	p.tracker.Observe(call, served)
	p.sandbox.Observe(call, served)
}

// scorecard flushes and reports the scorecard of token id in account.
func (p *sandboxParts) scorecard(st store.Store, retention time.Duration, now func() time.Time) func(ctx context.Context, account, id string) (scorecard.Card, error) {
	return func(ctx context.Context, account, id string) (scorecard.Card, error) {
		t, err := st.Token(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return scorecard.Card{}, store.ErrNotFound
		case err != nil:
			return scorecard.Card{}, fmt.Errorf("token %s: %w", id, err)
		case t.AccountUUID != account:
			return scorecard.Card{}, store.ErrNotFound // another account's is not this one's to see
		}
		if err := p.tracker.Flush(ctx); err != nil {
			return scorecard.Card{}, err
		}
		return scorecard.Report(ctx, st, t, now().Add(-retention))
	}
}

// close stops the flusher after a last flush and closes Redis.
func (p *sandboxParts) close(log *slog.Logger) {
	if p.cancel != nil {
		p.cancel()
		<-p.flushed
	}
	if p.redis != nil {
		if err := p.redis.Close(); err != nil {
			log.Warn("close redis", "err", err)
		}
	}
}

// sandboxFlags are serve's flags for rate limits, scenarios and the
// scorecard.
type sandboxFlags struct {
	perMinute, perHour int64
	redis              string
	scenario           string
	spin               time.Duration
	ingestMaxBody      int64
	ingestInFlight     int64
}

func (f *sandboxFlags) register(fs *flag.FlagSet) {
	fs.Int64Var(&f.perMinute, "rate-per-minute", 600, "Events API requests allowed per account per minute (0: no limit)")
	fs.Int64Var(&f.perHour, "rate-per-hour", 30000, "Events API requests allowed per account per hour (0: no limit)")
	fs.StringVar(&f.redis, "redis", "", "keep rate-limit counters in the Redis at this `URL` (redis://host:port/db) instead of the database")
	fs.StringVar(&f.scenario, "scenario", "", "load this sandbox scenario `file` (YAML; see docs/sandbox.md)")
	fs.DurationVar(&f.spin, "spin-window", scorecard.DefaultSpinWindow, "a request this soon after a drained reply counts as spinning in the scorecard")
	fs.Int64Var(&f.ingestMaxBody, "ingest-max-body", 16<<20, "largest ingestion request body, in `bytes`")
	fs.Int64Var(&f.ingestInFlight, "ingest-max-in-flight", ingest.DefaultMaxInFlight, "most `bytes` of ingestion bodies held by all requests at once (each counts its declared length, or --ingest-max-body if it declares none); a request past it gets 429 with Retry-After: 1 and is not read. Raised to --ingest-max-body if lower")
}

// apply checks the flags and sets them on o.
func (f *sandboxFlags) apply(o *ServerOptions) error {
	switch {
	case f.perMinute < 0:
		return usagef("--rate-per-minute: must not be negative")
	case f.perHour < 0:
		return usagef("--rate-per-hour: must not be negative")
	case f.spin <= 0:
		return usagef("--spin-window: must be positive")
	case f.ingestMaxBody < 1024:
		return usagef("--ingest-max-body: %d is less than 1024 bytes", f.ingestMaxBody)
	case f.ingestInFlight < 1024:
		return usagef("--ingest-max-in-flight: %d is less than 1024 bytes", f.ingestInFlight)
	}
	o.IngestMaxBody = f.ingestMaxBody
	o.IngestMaxInFlight = f.ingestInFlight
	o.Sandbox.RateLimits = []ratelimit.Limit{{N: f.perMinute, Per: time.Minute}, {N: f.perHour, Per: time.Hour}}
	o.Sandbox.RedisURL = f.redis
	o.Sandbox.SpinWindow = f.spin
	if f.scenario != "" {
		b, err := os.ReadFile(f.scenario)
		if err != nil {
			return usagef("--scenario: %v", err)
		}
		sc, err := sandbox.Parse(b)
		if err != nil {
			return usagef("--scenario %s: %v", f.scenario, err)
		}
		o.Sandbox.Scenario = sc
	}
	return nil
}

// reportScenario tells what loading the scenario did; a token made for a
// new account is shown once and saved (0600) in the data directory.
func reportScenario(env Env, srv *Server, data string) error {
	l := srv.sandbox.loaded
	if l == nil {
		return nil
	}
	fmt.Fprintf(env.Stderr, "Scenario %q loaded: %d steps, %d fired at start.\n", l.Scenario.Name, len(l.Scenario.Steps), len(l.Fired))
	if l.Token == "" {
		return nil
	}
	path := filepath.Join(data, "sandbox-"+l.Account+".token")
	if err := writeFileAtomic(path, []byte(l.Token+"\n"), 0o600); err != nil {
		return errors.New("save sandbox token: " + err.Error())
	}
	fmt.Fprintf(env.Stderr, "Account %q was created for it; its token, shown once and saved in %s:\n\n%s\n\n", l.Scenario.Account, path, l.Token)
	return nil
}
