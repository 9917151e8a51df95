// Package api serves the 1Password Events API over HTTP: the v1 and v2
// event endpoints, the v3 audit events beta (docs/v3.md) and both
// introspection endpoints, with bearer-token authentication, sealed
// cursors and page tokens, and pages spliced from stored bytes.
//
// Wire behaviour follows ../shared/spec/events-api.md; the choices it
// leaves open are written down in docs/design.md.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/logcap"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/token"
)

// DefaultRetention is how far back the API serves events (spec §4.6).
const DefaultRetention = 120 * 24 * time.Hour

// Config holds a handler's dependencies. Store, Tokens and CursorKey are
// required.
type Config struct {
	Store  store.EventStore
	Tokens *token.Service
	// CursorKey seals cursors; every server on one database must share it.
	CursorKey []byte
	// Retention bounds start_time; DefaultRetention when zero.
	Retention time.Duration
	// AccountWindow, when set, returns an account's own serving window,
	// which replaces Retention for it: 0 keeps Retention,
	// store.ServeForever serves every event stored.
	AccountWindow func(ctx context.Context, account string) (time.Duration, error)
	// Now returns the time; time.Now when nil.
	Now func() time.Time
	// Logger gets request failures; discarded when nil.
	Logger *slog.Logger
	// Guard, when set, runs after authentication and before an event or
	// introspection request is served. It may answer the request itself
	// (rate limiting, injected faults) and then returns true.
	Guard func(w http.ResponseWriter, r *http.Request, call Call) bool
	// GuardFirst, when set, reports whether Guard may change what the
	// account's next page holds (a sandbox scenario that appends events
	// as requests arrive), so that it must run before the page is read.
	// When it reports false, a request with a cursor is served by one
	// store call that reads the token and the page together, and Guard
	// runs after it, before anything is written (a refused request has
	// then cost one read). Nil: Guard always runs first.
	GuardFirst func(account string) bool
	// Observe, when set, is told about every page served.
	Observe func(call Call, served Served)
	// Integrity, when set, serves GET /api/v2/integrity/{stream}/head,
	// inclusion and consistency (docs/integrity.md).
	Integrity Integrity
	// Failed, when set, is told about every request answered with an
	// error status, with the error: for a 401 it wraps ErrNoToken or one
	// of the token.Err* values.
	Failed func(r *http.Request, status int, err error)
}

// ErrNoToken is a request without a bearer token.
var ErrNoToken = errors.New("no bearer token")

// Call describes an authenticated request.
type Call struct {
	Token   token.Verified
	Feature events.Feature // empty for introspection
	Version int
}

// Served describes a page that was sent.
type Served struct {
	// First and Last are the stream positions of the first and last event
	// sent; both zero when the page was empty.
	First, Last int64
	Items       int
	HasMore     bool
	// Head is the stream's newest position when the page was read.
	Head int64
}

type handler struct {
	Config
	codec cursorCodec
	mux   *http.ServeMux
}

// NewHandler returns the Events API handler.
func NewHandler(cfg Config) http.Handler {
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{Config: cfg, codec: newCursorCodec(cfg.CursorKey), mux: http.NewServeMux()}
	for _, f := range events.AllFeatures {
		h.mux.Handle("POST /api/v1/"+string(f), h.wrap(h.events(f, 1)))
		h.mux.Handle("POST /api/v2/"+string(f), h.wrap(h.events(f, 2)))
	}
	h.mux.Handle("GET /api/v3/auditevents", h.wrap(h.auditEventsV3))
	h.mux.Handle("GET /api/auth/introspect", h.wrap(h.introspect(1)))
	h.mux.Handle("GET /api/v2/auth/introspect", h.wrap(h.introspect(2)))
	if cfg.Integrity != nil {
		h.routeIntegrity()
	}
	return h.mux
}

// statusError is an error with the status it is answered with.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string {
	if e.err == nil {
		return http.StatusText(e.status)
	}
	return e.err.Error()
}

func (e *statusError) Unwrap() error { return e.err }

func badRequest(err error) error   { return &statusError{http.StatusBadRequest, err} }
func unauthorized(err error) error { return &statusError{http.StatusUnauthorized, err} }

// handlerFunc is an http.HandlerFunc that returns its error instead of
// writing it; wrap writes it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (h *handler) wrap(f handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := f(w, r)
		if err == nil {
			return
		}
		status := http.StatusInternalServerError
		var se *statusError
		if errors.As(err, &se) {
			status = se.status
		}
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			h.Logger.Debug("request abandoned", "path", logcap.String(r.URL.Path))
			return
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		if h.Failed != nil {
			h.Failed(r, status, err)
		}
		h.Logger.Log(r.Context(), level, "request failed", "method", logcap.String(r.Method), "path", logcap.String(r.URL.Path), "status", status, "err", logcap.Err(err))
		WriteError(w, status)
	})
}

// WriteError writes the Events API error body for status:
// {"Error":{"Message":"<reason phrase>"}}.
func WriteError(w http.ResponseWriter, status int) {
	body := `{"Error":{"Message":"` + http.StatusText(status) + `"}}`
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// authenticate checks the bearer token, and the feature when f is set.
func (h *handler) authenticate(r *http.Request, f events.Feature) (token.Verified, error) {
	p, err := h.present(r)
	if err != nil {
		return token.Verified{}, err
	}
	return h.accept(r, p, f)
}

// present checks the bearer token's signature, audience and expiry claim
// (token.Service.Present): the first half of authenticate.
func (h *handler) present(r *http.Request) (token.Presented, error) {
	auth := r.Header.Get("Authorization")
	scheme, raw, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return token.Presented{}, unauthorized(ErrNoToken)
	}
	p, err := h.Tokens.Present(r.Context(), strings.TrimSpace(raw))
	return p, tokenError(err)
}

// accept reads p's token from the store and checks it, and the feature
// when f is set: the second half of authenticate.
func (h *handler) accept(r *http.Request, p token.Presented, f events.Feature) (token.Verified, error) {
	t, err := h.Tokens.Stored(r.Context(), p)
	v, err := h.check(p, t, err, f)
	if err != nil {
		return v, err
	}
	h.markUsed(r, v)
	return v, nil
}

// check is token.Service.Accept of p's stored row t (lookupErr: the read's
// error), and the feature when f is set, with the errors a 401.
func (h *handler) check(p token.Presented, t store.Token, lookupErr error, f events.Feature) (token.Verified, error) {
	v, err := h.Tokens.Accept(p, t, lookupErr)
	if err != nil {
		return token.Verified{}, tokenError(err)
	}
	if f != "" && !v.Has(f) {
		return token.Verified{}, unauthorized(token.ErrFeature)
	}
	return v, nil
}

// tokenError is err, a verification failure, as a 401 when it is one of
// the token.Err* values.
func tokenError(err error) error {
	if err == nil {
		return nil
	}
	for _, e := range []error{token.ErrMalformed, token.ErrSignature, token.ErrUnknown, token.ErrAudience, token.ErrExpired, token.ErrRevoked} {
		if errors.Is(err, e) {
			return unauthorized(err)
		}
	}
	return err
}

// markUsed records the token's use (token.Service.MarkUsed).
func (h *handler) markUsed(r *http.Request, v token.Verified) {
	if err := h.Tokens.MarkUsed(r.Context(), v); err != nil {
		// Losing a last-used time is not worth failing the request for.
		h.Logger.Warn("token last use", "err", err)
	}
}
