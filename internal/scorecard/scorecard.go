package scorecard

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/api"
	"github.com/logbookhq/logbook/internal/store"
)

// DefaultSpinWindow is how soon after a drained reply (has_more false) a
// request on the same stream counts as spinning.
const DefaultSpinWindow = time.Second

// totalsWindow is the counter window scorecard totals are kept in. The
// counter contract lets a store drop windows that ended more than a day
// ago; a window that starts in 2200 has not ended, so totals stay.
var totalsWindow = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)

// The metrics of a scorecard, as counter names.
const (
	mRequests  = "requests"
	mDelivered = "delivered"
	mReplayed  = "replayed"
	mSpins     = "spins"
	m429       = "429"
	mHonoured  = "retry_after_honoured"
	mIgnored   = "retry_after_ignored"
	m5xx       = "5xx"
	mHW        = "hw"
	// mWritten is when a server last wrote the token's numbers, in Unix
	// milliseconds: what a reader in another process sees is that recent.
	mWritten = "written"
)

// Tracker keeps per-token aggregates of what connectors do, cheaply: a few
// integers per token and stream, updated under one mutex, and written to
// the store's counters by Flush (periodically and on shutdown). Replays
// are counted against a high-water position per token and stream, without
// remembering which events were sent.
type Tracker struct {
	st   store.CounterStore
	now  func() time.Time
	spin time.Duration
	log  *slog.Logger

	mu     sync.Mutex
	tokens map[string]*tokenState
}

type streamState struct {
	hw          int64 // highest position delivered (persisted value + local)
	hwLoaded    bool
	hwPersisted int64
	lastDrained time.Time
}

type tokenState struct {
	streams map[events.Feature]*streamState
	retryAt time.Time
	delta   map[string]int64 // per metric, per feature: "delivered/auditevents"
}

// TrackerConfig holds a Tracker's settings.
type TrackerConfig struct {
	// SpinWindow: DefaultSpinWindow when zero.
	SpinWindow time.Duration
	// Now returns the time; time.Now when nil.
	Now func() time.Time
	// Logger receives the errors of reads the tracker makes while a
	// request is served; discarded when nil.
	Logger *slog.Logger
}

// NewTracker returns a Tracker persisting to st.
func NewTracker(st store.CounterStore, cfg TrackerConfig) *Tracker {
	t := &Tracker{st: st, now: cfg.Now, spin: cfg.SpinWindow, log: cfg.Logger, tokens: map[string]*tokenState{}}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.spin <= 0 {
		t.spin = DefaultSpinWindow
	}
	return t
}

func (t *Tracker) token(id string) *tokenState {
	ts := t.tokens[id]
	if ts == nil {
		ts = &tokenState{streams: map[events.Feature]*streamState{}, delta: map[string]int64{}}
		t.tokens[id] = ts
	}
	return ts
}

func (ts *tokenState) stream(f events.Feature) *streamState {
	s := ts.streams[f]
	if s == nil {
		s = &streamState{}
		ts.streams[f] = s
	}
	return s
}

func metricKey(metric string, f events.Feature) string {
	if f == "" {
		return metric
	}
	return metric + "/" + string(f)
}

// Guard wraps next (which may be nil) into an api.Config.Guard that counts
// the request, notices spinning and whether a previous Retry-After was
// honoured, and records 429s and 5xx answered by next.
func (t *Tracker) Guard(next func(http.ResponseWriter, *http.Request, api.Call) bool) func(http.ResponseWriter, *http.Request, api.Call) bool {
	return func(w http.ResponseWriter, r *http.Request, call api.Call) bool {
		id := call.Token.Token.ID
		now := t.now()
		t.mu.Lock()
		ts := t.token(id)
		ts.delta[metricKey(mRequests, call.Feature)]++
		if !ts.retryAt.IsZero() {
			if now.Before(ts.retryAt) {
				ts.delta[mIgnored]++
			} else {
				ts.delta[mHonoured]++
			}
			ts.retryAt = time.Time{}
		}
		var load *streamState
		if call.Feature != "" {
			s := ts.stream(call.Feature)
			if !s.lastDrained.IsZero() && now.Sub(s.lastDrained) < t.spin {
				ts.delta[metricKey(mSpins, call.Feature)]++
			}
			if !s.hwLoaded {
				load = s
			}
		}
		t.mu.Unlock()
		if load != nil {
			t.loadHW(r, id, call.Feature, load)
		}
		if next == nil {
			return false
		}
		// The answer is recorded as its header is written, before the
		// client can see it and send its next request.
		rec := &statusRecorder{ResponseWriter: w, onStatus: func(status int, h http.Header) {
			t.mu.Lock()
			defer t.mu.Unlock()
			switch {
			case status == http.StatusTooManyRequests:
				ts.delta[m429]++
				secs, _ := strconv.ParseInt(h.Get("Retry-After"), 10, 64)
				if secs > 0 {
					ts.retryAt = now.Add(time.Duration(secs) * time.Second)
				}
			case status >= 500:
				ts.delta[m5xx]++
			}
		}}
		return next(rec, r, call)
	}
}

// statusRecorder tells onStatus the status a guard answers with, before
// the header goes out.
type statusRecorder struct {
	http.ResponseWriter
	status   int
	onStatus func(status int, h http.Header)
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		r.onStatus(code, r.Header())
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController and the sandbox find the writer
// underneath.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Observe is an api.Config.Observe: it counts events delivered for the
// first time and again, and remembers drained replies.
func (t *Tracker) Observe(call api.Call, served api.Served) {
	if call.Feature == "" {
		return
	}
	id := call.Token.Token.ID
	t.mu.Lock()
	defer t.mu.Unlock()
	ts := t.token(id)
	s := ts.stream(call.Feature)
	if served.HasMore {
		s.lastDrained = time.Time{}
	} else {
		s.lastDrained = t.now()
	}
	if served.Items == 0 {
		return
	}
	replayed := int64(0)
	switch {
	case served.Last <= s.hw:
		replayed = int64(served.Items)
	case served.First <= s.hw:
		// The page straddles the high-water mark. Positions are not dense
		// within a stream, so the split is estimated in proportion to the
		// positions' span; at least one event was sent before.
		span := served.Last - served.First + 1
		replayed = max(1, int64(served.Items)*(s.hw-served.First+1)/span)
		replayed = min(replayed, int64(served.Items)-1)
	}
	ts.delta[metricKey(mReplayed, call.Feature)] += replayed
	ts.delta[metricKey(mDelivered, call.Feature)] += int64(served.Items) - replayed
	s.hw = max(s.hw, served.Last)
}

// loadHW reads, once per token and stream per process, the high-water
// position other runs and servers persisted, so that replays are counted
// from there. It reads on the request's context, before the page is
// served; a failure is logged and the read is tried again on the next
// request, while this one counts from what the process saw.
func (t *Tracker) loadHW(r *http.Request, id string, f events.Feature, s *streamState) {
	hw, err := t.st.IncrCounter(r.Context(), counterKey(id, mHW, f), totalsWindow, 0)
	if err != nil {
		t.log.Warn("scorecard: read high-water position", "token", id, "feature", string(f), "err", err)
		return
	}
	t.mu.Lock()
	if !s.hwLoaded {
		s.hw, s.hwPersisted, s.hwLoaded = max(s.hw, hw), hw, true
	}
	t.mu.Unlock()
}

func counterKey(tokenID, metric string, f events.Feature) string {
	return "sc:" + tokenID + ":" + metricKey(metric, f)
}

// Flush adds the aggregates gathered since the last Flush to the store.
// It writes on a context its caller's cancellation does not reach: a
// request that ends mid-write would otherwise leave an increment whose
// commit is unknown, and putting it back for the next Flush could count
// it twice.
func (t *Tracker) Flush(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	type delta struct {
		token, metric string
		value         int64
	}
	type hwDelta struct {
		token string
		f     events.Feature
		s     *streamState
		value int64
	}
	t.mu.Lock()
	var deltas []delta
	var hws []hwDelta
	ids := make([]string, 0, len(t.tokens))
	written := t.now()
	for id, ts := range t.tokens {
		ids = append(ids, id)
		for k, v := range ts.delta {
			if v != 0 {
				deltas = append(deltas, delta{id, k, v})
			}
		}
		clear(ts.delta)
		for f, s := range ts.streams {
			if s.hwLoaded && s.hw > s.hwPersisted {
				hws = append(hws, hwDelta{id, f, s, s.hw})
			}
		}
	}
	t.mu.Unlock()
	var firstErr error
	failed := map[string]bool{}
	for _, d := range deltas {
		k := "sc:" + d.token + ":" + d.metric
		if _, err := t.st.IncrCounter(ctx, k, totalsWindow, d.value); err != nil {
			failed[d.token] = true
			// Kept for the next Flush rather than lost.
			t.mu.Lock()
			t.token(d.token).delta[d.metric] += d.value
			t.mu.Unlock()
			if firstErr == nil {
				firstErr = fmt.Errorf("scorecard %s: %w", k, err)
			}
		}
	}
	for _, h := range hws {
		key := counterKey(h.token, mHW, h.f)
		cur, err := t.st.IncrCounter(ctx, key, totalsWindow, 0)
		if err == nil && h.value > cur {
			cur, err = t.st.IncrCounter(ctx, key, totalsWindow, h.value-cur)
		}
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("scorecard %s: %w", key, err)
			}
			continue
		}
		t.mu.Lock()
		h.s.hwPersisted = max(h.s.hwPersisted, cur)
		t.mu.Unlock()
	}
	// Every token this process has seen is now current in the store, up
	// to written, unless part of its numbers could not be written.
	for _, id := range ids {
		if failed[id] {
			continue
		}
		if err := raiseCounter(ctx, t.st, counterKey(id, mWritten, ""), written.UnixMilli()); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("scorecard %s: %w", counterKey(id, mWritten, ""), err)
		}
	}
	return firstErr
}

// raiseCounter sets the counter key to v unless it holds more already.
// Counters only add, so two servers raising it at once may overshoot;
// the second step takes the overshoot back.
func raiseCounter(ctx context.Context, st store.CounterStore, key string, v int64) error {
	cur, err := st.IncrCounter(ctx, key, totalsWindow, 0)
	if err != nil || cur >= v {
		return err
	}
	if cur, err = st.IncrCounter(ctx, key, totalsWindow, v-cur); err != nil || cur <= v {
		return err
	}
	_, err = st.IncrCounter(ctx, key, totalsWindow, v-cur)
	return err
}

// Run flushes every interval until ctx ends, then once more.
func (t *Tracker) Run(ctx context.Context, interval time.Duration, onErr func(error)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := t.Flush(context.WithoutCancel(ctx)); err != nil && onErr != nil {
				onErr(err)
			}
			return
		case <-tick.C:
			if err := t.Flush(ctx); err != nil && onErr != nil {
				onErr(err)
			}
		}
	}
}

// Card is the scorecard of one token: what a connector did with it.
type Card struct {
	TokenID   string `json:"token_id"`
	TokenName string `json:"token_name"`
	// WrittenAt is when a server last wrote this token's numbers to the
	// store (servers write every 30 seconds, when they stop, and when the
	// admin API reports a scorecard); zero when none has. Requests served
	// since are not counted yet.
	WrittenAt time.Time       `json:"written_at,omitzero"`
	Streams   []StreamScore   `json:"streams"`
	Requests  int64           `json:"requests"`
	Spins     int64           `json:"spins"`
	TooMany   TooManyRequests `json:"too_many_requests"`
	// ServerErrors counts 5xx answers injected by a scenario.
	ServerErrors int64 `json:"server_errors"`
	// Clean is true when nothing was replayed, nothing spun and every
	// Retry-After was honoured.
	Clean bool `json:"clean"`
	// Problems says, in words, what is not clean.
	Problems []string `json:"problems"`
}

// StreamScore is one feature's numbers.
type StreamScore struct {
	Feature events.Feature `json:"feature"`
	// Available is the number of events the stream holds now, within
	// retention; Delivered the distinct ones sent to the token; Replayed
	// those sent again.
	Available int64 `json:"available"`
	Delivered int64 `json:"delivered"`
	Replayed  int64 `json:"replayed"`
	Requests  int64 `json:"requests"`
	Spins     int64 `json:"spins"`
}

// TooManyRequests counts 429 answers and what came after them.
type TooManyRequests struct {
	Received          int64 `json:"received"`
	RetryAfterHonored int64 `json:"retry_after_honoured"`
	RetryAfterIgnored int64 `json:"retry_after_ignored"`
}

// Store is what Report reads.
type Store interface {
	store.CounterStore
	store.EventStore
}

// Report reads the persisted scorecard of tok (call Flush first for the
// latest numbers). Available counts events with timestamps after since.
func Report(ctx context.Context, st Store, tok store.Token, since time.Time) (Card, error) {
	read := func(metric string, f events.Feature) (int64, error) {
		return st.IncrCounter(ctx, counterKey(tok.ID, metric, f), totalsWindow, 0)
	}
	sc := Card{TokenID: tok.ID, TokenName: tok.Name, Streams: []StreamScore{}, Problems: []string{}}
	var err error
	get := func(metric string, f events.Feature) int64 {
		if err != nil {
			return 0
		}
		var v int64
		v, err = read(metric, f)
		return v
	}
	if ms := get(mWritten, ""); ms > 0 {
		sc.WrittenAt = time.UnixMilli(ms).UTC()
	}
	sc.Requests = get(mRequests, "")
	for _, f := range tok.Features {
		ss := StreamScore{Feature: f, Delivered: get(mDelivered, f), Replayed: get(mReplayed, f),
			Requests: get(mRequests, f), Spins: get(mSpins, f)}
		if err != nil {
			return sc, err
		}
		counts, cerr := st.CountEvents(ctx, tok.AccountUUID, f, since, totalsWindow)
		if cerr != nil {
			return sc, fmt.Errorf("count %s: %w", f, cerr)
		}
		for _, c := range counts {
			ss.Available += c.N
		}
		sc.Requests += ss.Requests
		sc.Spins += ss.Spins
		sc.Streams = append(sc.Streams, ss)
		if ss.Replayed > 0 {
			sc.Problems = append(sc.Problems, fmt.Sprintf("%s: %d events delivered more than once", f, ss.Replayed))
		}
		if ss.Spins > 0 {
			sc.Problems = append(sc.Problems, fmt.Sprintf("%s: %d requests within the spin window after a drained reply (has_more false)", f, ss.Spins))
		}
	}
	sc.TooMany = TooManyRequests{Received: get(m429, ""), RetryAfterHonored: get(mHonoured, ""), RetryAfterIgnored: get(mIgnored, "")}
	sc.ServerErrors = get(m5xx, "")
	if err != nil {
		return sc, err
	}
	if sc.TooMany.RetryAfterIgnored > 0 {
		sc.Problems = append(sc.Problems, fmt.Sprintf("%d requests came before the Retry-After of a 429 had passed", sc.TooMany.RetryAfterIgnored))
	}
	sc.Clean = len(sc.Problems) == 0
	return sc, nil
}
