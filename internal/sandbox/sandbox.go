package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/api"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/token"
)

// Config holds a Sandbox's dependencies. Store and Tokens are required.
type Config struct {
	Store  store.Store
	Tokens *token.Service
	// Now returns the time; time.Now when nil.
	Now func() time.Time
	// Sleep waits d or until ctx ends; a timer when nil. Tests may shorten
	// it, but delays of a few milliseconds are real enough.
	Sleep func(ctx context.Context, d time.Duration)
	// Logger reports steps as they fire; discarded when nil.
	Logger *slog.Logger
}

// Sandbox runs at most one scenario at a time. Its Guard and Middleware
// inject the scenario's faults into the Events API; both are no-ops when
// no scenario is loaded.
type Sandbox struct {
	cfg Config
	log *slog.Logger

	mu  sync.Mutex
	cur *running
}

type running struct {
	sc        *Scenario
	account   string // uuid; empty for every account
	started   time.Time
	requests  int64
	delivered int64
	next      int // first step not yet fired
	fired     []Fired
	faults    []*activeFault
}

type activeFault struct {
	verb  string
	left  int
	fault *Fault
}

// Fired records a step that fired.
type Fired struct {
	Step    int       `json:"step"`
	Verb    string    `json:"verb"`
	At      time.Time `json:"at"`
	Request int64     `json:"request"`
	Detail  string    `json:"detail,omitempty"`
}

// Status is the loaded scenario and its progress.
type Status struct {
	Scenario  *Scenario `json:"scenario"`
	Account   string    `json:"account_uuid,omitempty"`
	Started   time.Time `json:"started"`
	Requests  int64     `json:"requests"`
	Delivered int64     `json:"events_delivered"`
	Fired     []Fired   `json:"fired"`
}

// Loaded is the result of Load: the account's token when Load created the
// account (shown once), and the steps that fired at once.
type Loaded struct {
	Status
	AccountCreated bool   `json:"account_created"`
	Token          string `json:"token,omitempty"`
}

// New returns a Sandbox with no scenario.
func New(cfg Config) *Sandbox {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = func(ctx context.Context, d time.Duration) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}
	}
	s := &Sandbox{cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Load replaces the current scenario with sc, creating its account if
// needed, and fires the steps without a trigger.
func (s *Sandbox) Load(ctx context.Context, sc *Scenario) (Loaded, error) {
	var out Loaded
	r := &running{sc: sc, started: s.cfg.Now()}
	if sc.Account != "" {
		a, err := s.cfg.Store.AccountByName(ctx, sc.Account)
		if errors.Is(err, store.ErrNotFound) {
			a, out.Token, err = s.createAccount(ctx, sc.Account)
			out.AccountCreated = err == nil
		}
		if err != nil {
			return out, fmt.Errorf("account: %w", err)
		}
		r.account = a.UUID
	}
	s.mu.Lock()
	s.cur = r
	s.mu.Unlock()
	if err := s.advance(ctx, r, api.Call{}); err != nil {
		return out, err
	}
	out.Status = s.status(r)
	s.log.Info("scenario loaded", "name", sc.Name, "account", r.account, "steps", len(sc.Steps))
	return out, nil
}

// Clear unloads the scenario; it reports whether one was loaded.
func (s *Sandbox) Clear() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	had := s.cur != nil
	s.cur = nil
	return had
}

// Running reports whether a loaded scenario applies to account: its
// Guard may then append events for it, or revoke its token, as a request
// arrives (api.Config.GuardFirst).
func (s *Sandbox) Running(account string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur != nil && (s.cur.account == "" || s.cur.account == account)
}

// Current returns the loaded scenario's status, false when none.
func (s *Sandbox) Current() (Status, bool) {
	s.mu.Lock()
	r := s.cur
	s.mu.Unlock()
	if r == nil {
		return Status{}, false
	}
	return s.status(r), true
}

func (s *Sandbox) status(r *running) Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Status{Scenario: r.sc, Account: r.account, Started: r.started, Requests: r.requests,
		Delivered: r.delivered, Fired: append([]Fired{}, r.fired...)}
}

func (s *Sandbox) createAccount(ctx context.Context, name string) (store.Account, string, error) {
	now := s.cfg.Now().UTC()
	a := store.Account{UUID: events.NewID(), Name: name, CreatedAt: now}
	if err := s.cfg.Store.CreateAccount(ctx, a); err != nil {
		return a, "", err
	}
	in := store.Integration{UUID: events.NewID(), AccountUUID: a.UUID, Name: "Sandbox", SIEM: "Other", CreatedAt: now}
	if err := s.cfg.Store.CreateIntegration(ctx, in); err != nil {
		return a, "", err
	}
	raw, _, err := s.cfg.Tokens.Issue(ctx, token.IssueRequest{AccountUUID: a.UUID, IntegrationUUID: in.UUID,
		Name: "sandbox", Features: events.AllFeatures})
	return a, raw, err
}

// advance fires every step whose trigger is reached, in order, and queues
// the faults they start. call is the request that triggers them (zero at
// load).
func (s *Sandbox) advance(ctx context.Context, r *running, call api.Call) error {
	for {
		s.mu.Lock()
		if s.cur != r || r.next >= len(r.sc.Steps) {
			s.mu.Unlock()
			return nil
		}
		i := r.next
		st := &r.sc.Steps[i]
		now := s.cfg.Now()
		ready := true
		switch {
		case st.AfterRequests != nil:
			ready = r.requests > *st.AfterRequests
		case st.AfterEvents != nil:
			ready = r.delivered >= *st.AfterEvents
		case st.After != "":
			ready = now.Sub(r.started) >= st.after
		}
		if ready && st.RevokeToken != nil && call.Token.Token.ID == "" {
			ready = false // needs a request's token
		}
		if !ready {
			s.mu.Unlock()
			return nil
		}
		r.next++
		f := Fired{Step: i, Verb: st.verb(), At: now, Request: r.requests}
		switch {
		case st.Status429 != nil:
			r.faults = append(r.faults, &activeFault{verb: "status_429", left: st.Status429.Count, fault: st.Status429})
		case st.Status500 != nil:
			r.faults = append(r.faults, &activeFault{verb: "status_500", left: st.Status500.Count, fault: st.Status500})
		case st.Slow != nil:
			r.faults = append(r.faults, &activeFault{verb: "slow", left: st.Slow.Count, fault: st.Slow})
		case st.Truncate != nil:
			r.faults = append(r.faults, &activeFault{verb: "truncate", left: st.Truncate.Count, fault: st.Truncate})
		}
		s.mu.Unlock()

		var err error
		switch {
		case st.Burst != nil:
			f.Detail, err = s.addEvents(ctx, r.account, "burst", st.Burst)
		case st.Late != nil:
			f.Detail, err = s.addEvents(ctx, r.account, "late", st.Late)
		case st.Unicode != nil:
			f.Detail, err = s.addEvents(ctx, r.account, "unicode", st.Unicode)
		case st.RevokeToken != nil:
			t := call.Token.Token
			t.RevokedAt = now.UTC()
			err = s.cfg.Store.UpdateToken(ctx, t)
			f.Detail = "token " + t.ID
		}
		if err != nil {
			return fmt.Errorf("steps[%d].%s: %w", i, f.Verb, err)
		}
		s.log.Info("scenario step fired", "step", i, "verb", f.Verb, "request", f.Request, "detail", f.Detail)
		s.mu.Lock()
		r.fired = append(r.fired, f)
		s.mu.Unlock()
	}
}

func (s *Sandbox) addEvents(ctx context.Context, account, verb string, d *Data) (string, error) {
	wires, err := generate(verb, d, account, s.cfg.Now())
	if err != nil {
		return "", err
	}
	byKind := map[events.Feature][]events.Wire{}
	for _, w := range wires {
		byKind[w.Feature] = append(byKind[w.Feature], w)
	}
	added := 0
	for _, f := range events.AllFeatures {
		for ws := byKind[f]; len(ws) > 0; {
			n := min(len(ws), ingest.DefaultBatch)
			res, err := ingest.Append(ctx, s.cfg.Store, account, f, ws[:n])
			if err != nil {
				return "", err
			}
			added += res.Accepted
			ws = ws[n:]
		}
	}
	return fmt.Sprintf("%d events", added), nil
}

// Guard is an api.Config.Guard that applies the scenario to a request of
// its account: it counts the request, fires steps, and answers with the
// first active fault, if any.
func (s *Sandbox) Guard(w http.ResponseWriter, r *http.Request, call api.Call) bool {
	s.mu.Lock()
	run := s.cur
	if run == nil || (run.account != "" && run.account != call.Token.Token.AccountUUID) {
		s.mu.Unlock()
		return false
	}
	run.requests++
	s.mu.Unlock()
	if err := s.advance(r.Context(), run, call); err != nil {
		s.log.Error("scenario step failed", "err", err)
	}
	s.mu.Lock()
	var fault *activeFault
	if s.cur == run && len(run.faults) > 0 {
		fault = run.faults[0]
		fault.left--
		if fault.left <= 0 {
			run.faults = run.faults[1:]
		}
	}
	revoked := false
	for _, f := range run.fired {
		if f.Verb == "revoke_token" && f.Detail == "token "+call.Token.Token.ID {
			revoked = true
		}
	}
	s.mu.Unlock()
	if revoked {
		api.WriteError(w, http.StatusUnauthorized)
		return true
	}
	if fault == nil {
		return false
	}
	switch fault.verb {
	case "status_429":
		w.Header().Set("Retry-After", strconv.FormatInt(int64((fault.fault.retryAfter+time.Second-1)/time.Second), 10))
		api.WriteError(w, http.StatusTooManyRequests)
		return true
	case "status_500":
		api.WriteError(w, http.StatusInternalServerError)
		return true
	case "slow":
		s.cfg.Sleep(r.Context(), fault.fault.delay)
	case "truncate":
		if fw := findFaultWriter(w); fw != nil {
			fw.cut = fault.fault.Bytes
		}
	}
	return false
}

// Observe is an api.Config.Observe counting events delivered to the
// scenario's account, for after_events triggers.
func (s *Sandbox) Observe(call api.Call, served api.Served) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.cur; r != nil && (r.account == "" || r.account == call.Token.Token.AccountUUID) {
		r.delivered += int64(served.Items)
	}
}

// Middleware wraps the Events API handler so that a truncate fault can cut
// a reply: the writer it passes down sends only the first bytes of the
// body, then the connection is closed.
func (s *Sandbox) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fw := &faultWriter{ResponseWriter: w, cut: -1}
		next.ServeHTTP(fw, r)
		if fw.truncated {
			// Abort: the client sees the connection close mid-body.
			panic(http.ErrAbortHandler)
		}
	})
}

type faultWriter struct {
	http.ResponseWriter
	cut       int // bytes still to send before cutting; -1: no cut
	truncated bool
}

func (fw *faultWriter) Unwrap() http.ResponseWriter { return fw.ResponseWriter }

func (fw *faultWriter) Write(b []byte) (int, error) {
	if fw.cut < 0 {
		return fw.ResponseWriter.Write(b)
	}
	if fw.truncated {
		return len(b), nil
	}
	n := min(fw.cut, len(b))
	if _, err := fw.ResponseWriter.Write(b[:n]); err != nil {
		return 0, err
	}
	fw.cut -= n
	if fw.cut == 0 && n < len(b) || fw.cut == 0 {
		fw.truncated = true
		_ = http.NewResponseController(fw.ResponseWriter).Flush()
	}
	return len(b), nil
}

func findFaultWriter(w http.ResponseWriter) *faultWriter {
	for {
		if fw, ok := w.(*faultWriter); ok {
			return fw
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}
