// Package ratelimit limits Events API requests per account, as 1Password
// does (600 requests a minute and 30,000 an hour by default, spec §8).
//
// Windows are fixed and aligned to the clock (a minute window starts at
// hh:mm:00): counts live in a shared Counter, so several servers on one
// database (store.CounterStore) or one Redis agree, at the cost of one
// increment per window per request. A fixed window lets a client send up
// to twice the limit across a boundary; 1Password documents no window
// type, and what connectors need to be tested against is the 429 and its
// Retry-After, which a fixed window gives exactly: the time until the
// window that refused the request ends.
//
// Every request counts, refused ones too, so a client that ignores
// Retry-After stays refused until the window ends, and spends its hourly
// allowance doing so. If the counter fails, requests are let through (and
// the failure logged): a broken counter must not take the API down.
package ratelimit

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/logbookhq/logbook/internal/api"
	"github.com/logbookhq/logbook/internal/store"
)

// Counter counts events in fixed windows shared by every server.
type Counter interface {
	// Incr adds delta to key's count in the window [start, start+length)
	// and returns the new count.
	Incr(ctx context.Context, key string, start time.Time, length time.Duration, delta int64) (int64, error)
}

// Limit is at most N requests per window of length Per. N = 0 disables it.
type Limit struct {
	N   int64
	Per time.Duration
}

// Defaults are 1Password's documented limits.
var Defaults = []Limit{{N: 600, Per: time.Minute}, {N: 30000, Per: time.Hour}}

// Config holds a Limiter's settings. Counter is required.
type Config struct {
	// Limits apply together; Defaults when nil.
	Limits  []Limit
	Counter Counter
	// Now returns the time; time.Now when nil.
	Now func() time.Time
	// Logger gets counter failures; discarded when nil.
	Logger *slog.Logger
	// Refused, when set, is told about every request Guard refuses.
	Refused func(r *http.Request, d Decision)
}

// Limiter decides whether an account may make another request.
type Limiter struct {
	limits  []Limit
	counter Counter
	now     func() time.Time
	log     *slog.Logger
	refused func(r *http.Request, d Decision)
}

// New returns a Limiter.
func New(cfg Config) *Limiter {
	l := &Limiter{counter: cfg.Counter, now: cfg.Now, log: cfg.Logger, refused: cfg.Refused}
	if cfg.Limits == nil {
		cfg.Limits = Defaults
	}
	for _, lim := range cfg.Limits {
		if lim.N > 0 && lim.Per > 0 {
			l.limits = append(l.limits, lim)
		}
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	return l
}

// Enabled reports whether any limit applies.
func (l *Limiter) Enabled() bool { return len(l.limits) > 0 }

// Decision is the outcome of one request.
type Decision struct {
	Allowed bool
	// Limit, Remaining and Reset describe the most constrained window:
	// its limit, the requests left in it, and the time until it ends.
	Limit, Remaining int64
	Reset            time.Duration
	// RetryAfter is, for a refused request, the time until the window
	// that refused it ends.
	RetryAfter time.Duration
	// Window is, for a refused request, the length (Limit.Per) of that
	// window.
	Window time.Duration
}

// Allow counts one request of account and says whether it may be served.
func (l *Limiter) Allow(ctx context.Context, account string) (Decision, error) {
	now := l.now()
	d := Decision{Allowed: true, Remaining: math.MaxInt64}
	for _, lim := range l.limits {
		start := now.Truncate(lim.Per)
		n, err := l.counter.Incr(ctx, "rl:"+lim.Per.String()+":"+account, start, lim.Per, 1)
		if err != nil {
			return Decision{Allowed: true}, err
		}
		reset := start.Add(lim.Per).Sub(now)
		rem := max(lim.N-n, 0)
		if rem < d.Remaining || (rem == d.Remaining && reset > d.Reset) {
			d.Limit, d.Remaining, d.Reset = lim.N, rem, reset
		}
		if n > lim.N {
			d.Allowed = false
			if reset >= d.RetryAfter {
				d.RetryAfter, d.Window = reset, lim.Per
			}
		}
	}
	return d, nil
}

// Guard is an api.Config.Guard: it counts the request against the token's
// account, sets RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset,
// and answers 429 {"Error":{"Message":"Too Many Requests"}} with
// Retry-After when a limit is exceeded.
func (l *Limiter) Guard(w http.ResponseWriter, r *http.Request, call api.Call) bool {
	if !l.Enabled() {
		return false
	}
	d, err := l.Allow(r.Context(), call.Token.Token.AccountUUID)
	if err != nil {
		l.log.Warn("rate limit counter failed; request let through", "account", call.Token.Token.AccountUUID, "err", err)
		return false
	}
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.FormatInt(d.Limit, 10))
	h.Set("RateLimit-Remaining", strconv.FormatInt(d.Remaining, 10))
	h.Set("RateLimit-Reset", strconv.FormatInt(seconds(d.Reset), 10))
	if d.Allowed {
		return false
	}
	h.Set("Retry-After", strconv.FormatInt(seconds(d.RetryAfter), 10))
	if l.refused != nil {
		l.refused(r, d)
	}
	api.WriteError(w, http.StatusTooManyRequests)
	return true
}

// seconds rounds up to whole seconds, at least 1.
func seconds(d time.Duration) int64 {
	return max(int64((d+time.Second-1)/time.Second), 1)
}

// StoreCounter counts in a store's counters (store.CounterStore), which
// every server on the database shares.
type StoreCounter struct{ Store store.CounterStore }

// Incr implements Counter.
func (c StoreCounter) Incr(ctx context.Context, key string, start time.Time, _ time.Duration, delta int64) (int64, error) {
	return c.Store.IncrCounter(ctx, key, start, delta)
}
