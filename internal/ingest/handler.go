package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/logcap"
	"github.com/logbookhq/logbook/internal/store"
)

// DefaultMaxBody is the largest request body the handler reads: about
// 20,000 typical events.
const DefaultMaxBody = 16 << 20

// DefaultMaxInFlight bounds the bytes of ingestion bodies that all
// requests together hold at once: four bodies of DefaultMaxBody. A body
// is held from before it is read until its reply, and decoding it takes
// about as much again.
const DefaultMaxInFlight = 64 << 20

// RetryAfter is the Retry-After of a 429, in seconds.
const RetryAfter = 1

// MaxErrors is the most field errors a refused batch reports.
const MaxErrors = 100

// Store is what ingestion needs of the store.
type Store interface {
	store.EventStore
	store.KeyStore
}

// Config holds a handler's dependencies. Store is required.
type Config struct {
	Store Store
	// MaxBody is the largest body accepted, in bytes; DefaultMaxBody when
	// zero.
	MaxBody int64
	// MaxInFlight bounds the bytes of bodies held by all requests at once
	// (each reserves its declared length, or MaxBody when it declares
	// none, before reading); past it a request gets 429 with Retry-After.
	// DefaultMaxInFlight when zero, and never less than MaxBody.
	MaxInFlight int64
	// Now returns the time; time.Now when nil.
	Now func() time.Time
	// Logger gets failed requests; discarded when nil.
	Logger *slog.Logger
	// Observe, when set, is told about every batch the handler stored or
	// refused (400, 409, 413) after authenticating it.
	Observe func(Batch)
}

// Batch is what Config.Observe is told: a batch of Feature stored, with
// its Accepted and Duplicates events, or Refused (nothing stored) when it
// held Size events (0 when the body was too large or not a list of
// events).
type Batch struct {
	Feature              events.Feature
	Accepted, Duplicates int
	Refused              bool
	Size                 int
}

// Result is the reply to an accepted batch: Accepted events were new and
// are now stored durably, Duplicates were already held (same uuid and
// timestamp). Together they are the batch's size.
type Result struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// Refusal is the reply to a refused batch (400, 409, 413 or 429).
type Refusal struct {
	Errors []FieldError `json:"errors"`
}

// Prefix is where the handler's routes live.
const Prefix = "/api/v2/ingest/"

type handler struct {
	Config
	mu       sync.Mutex
	inFlight int64 // bytes reserved by requests being served
	// reserved, when set (by tests), is called after a request reserves.
	reserved func(n int64)
	mux      *http.ServeMux
}

// NewHandler returns the ingestion handler, serving
// POST /api/v2/ingest/{signinattempts|itemusages|auditevents}.
func NewHandler(cfg Config) http.Handler { return newHandler(cfg) }

func newHandler(cfg Config) *handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	cfg.MaxInFlight = max(cfg.MaxInFlight, cfg.MaxBody)
	h := &handler{Config: cfg}
	mux := http.NewServeMux()
	for _, f := range events.AllFeatures {
		mux.HandleFunc("POST "+Prefix+string(f), func(w http.ResponseWriter, r *http.Request) { h.handle(w, r, f) })
	}
	h.mux = mux
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// reserve takes n bytes of the in-flight budget, or reports that they
// would exceed it.
func (h *handler) reserve(n int64) bool {
	h.mu.Lock()
	ok := h.inFlight+n <= h.MaxInFlight
	if ok {
		h.inFlight += n
	}
	h.mu.Unlock()
	if ok && h.reserved != nil {
		h.reserved(n)
	}
	return ok
}

func (h *handler) release(n int64) {
	h.mu.Lock()
	h.inFlight -= n
	h.mu.Unlock()
}

// refusal is an error answered with status and the Refusal body errs,
// after logging msg and attrs at info when msg is set. A refusal that
// closes the connection says so; a 429 also carries Retry-After.
type refusal struct {
	status int
	errs   []FieldError
	close  bool
	msg    string
	attrs  []any
}

func (e *refusal) Error() string {
	if len(e.errs) == 0 {
		return http.StatusText(e.status)
	}
	return http.StatusText(e.status) + ": " + e.errs[0].Error()
}

// unauthorized is an error answered with 401 and the Events API error
// body: no bearer key, or one that Authenticate refused (ErrBadKey).
type unauthorized struct{ err error }

func (e *unauthorized) Error() string { return e.err.Error() }
func (e *unauthorized) Unwrap() error { return e.err }

// errGone is returned when the client went away mid-request: nothing is
// written.
var errGone = errors.New("client went away")

// handle answers what serve returns, in one place: refusals with their
// status and body, 401 with WWW-Authenticate, and any other error as a 500
// whose detail only the log sees.
func (h *handler) handle(w http.ResponseWriter, r *http.Request, f events.Feature) {
	err := h.serve(w, r, f)
	var rf *refusal
	var ua *unauthorized
	switch {
	case err == nil || errors.Is(err, errGone):
	case errors.As(err, &rf):
		if rf.msg != "" {
			h.Logger.Info(rf.msg, rf.attrs...)
		}
		if rf.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", strconv.Itoa(RetryAfter))
		}
		if rf.close {
			w.Header().Set("Connection", "close")
		}
		writeJSON(w, rf.status, Refusal{Errors: rf.errs})
	case errors.As(err, &ua):
		h.Logger.Info("ingest unauthorized", "path", logcap.String(r.URL.Path), "err", logcap.Err(ua.err))
		w.Header().Set("WWW-Authenticate", `Bearer realm="logbook ingest"`)
		writeStatus(w, http.StatusUnauthorized)
	default:
		h.Logger.Error("ingest", "feature", f, "err", logcap.Err(err))
		writeStatus(w, http.StatusInternalServerError)
	}
}

// serve stores one batch of f and writes the Result, or returns why not.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, f events.Feature) error {
	scheme, raw, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return &unauthorized{errors.New("no bearer key")}
	}
	key, err := Authenticate(r.Context(), h.Store, strings.TrimSpace(raw), h.Now())
	if errors.Is(err, ErrBadKey) {
		return &unauthorized{err}
	}
	if err != nil {
		return err
	}
	if err := MarkUsed(r.Context(), h.Store, key, h.Now()); err != nil {
		// Losing a last-use time is not worth failing the request for.
		h.Logger.Warn("ingest key last use", "err", err)
	}
	if r.ContentLength > h.MaxBody {
		h.observe(Batch{Feature: f, Refused: true})
		return h.tooLarge()
	}
	need := h.MaxBody
	if r.ContentLength >= 0 {
		need = r.ContentLength
	}
	if !h.reserve(need) {
		return &refusal{status: http.StatusTooManyRequests, close: true, errs: []FieldError{{Field: "body", Reason: fmt.Sprintf(
			"not read: the server holds as many ingestion bytes as it may (%d); retry after %d s", h.MaxInFlight, RetryAfter)}},
			msg: "ingest busy", attrs: []any{"feature", f, "account", key.AccountUUID, "bytes", need}}
	}
	defer h.release(need)
	body, err := readBody(http.MaxBytesReader(w, r.Body, h.MaxBody), r.ContentLength)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		h.observe(Batch{Feature: f, Refused: true})
		return h.tooLarge()
	}
	if err != nil {
		h.observe(Batch{Feature: f, Refused: true})
		return &refusal{status: http.StatusBadRequest, errs: []FieldError{{Field: "body", Reason: "read: " + err.Error()}}}
	}
	res, size, errs, err := appendBody(r.Context(), h.Store, key.AccountUUID, f, body)
	if len(errs) > 0 {
		h.observe(Batch{Feature: f, Refused: true, Size: size})
	}
	if errors.Is(err, errConflict) {
		return &refusal{status: http.StatusConflict, errs: errs,
			msg: "ingest batch refused", attrs: []any{"feature", f, "account", key.AccountUUID, "first", errs[0].Error()}}
	}
	if len(errs) > 0 {
		return &refusal{status: http.StatusBadRequest, errs: errs,
			msg: "ingest batch refused", attrs: []any{"feature", f, "account", key.AccountUUID, "errors", len(errs), "first", logcap.Err(errs[0])}}
	}
	if err != nil {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			return errGone
		}
		return fmt.Errorf("account %s: %w", key.AccountUUID, err)
	}
	h.observe(Batch{Feature: f, Accepted: res.Accepted, Duplicates: res.Duplicates, Size: size})
	h.Logger.Debug("ingested", "feature", f, "account", key.AccountUUID, "key", key.ID, "accepted", res.Accepted, "duplicates", res.Duplicates)
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (h *handler) observe(b Batch) {
	if h.Observe != nil {
		h.Observe(b)
	}
}

func (h *handler) tooLarge() error {
	return &refusal{status: http.StatusRequestEntityTooLarge, close: true, errs: []FieldError{{Field: "body",
		Reason: fmt.Sprintf("is larger than %d bytes; send smaller batches", h.MaxBody)}}}
}

// DecodeAll reads every event of kind from r and returns their wires, or,
// if any event is invalid, up to MaxErrors field errors and no wires.
// Events are decoded on every core; see decodeItems.
func DecodeAll(r io.Reader, kind events.Feature) ([]events.Wire, []FieldError) {
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, []FieldError{{Field: "body", Reason: "read: " + err.Error()}}
	}
	return DecodeBytes(body, kind)
}

// DecodeBytes is DecodeAll of a body already in memory. The wires may
// share memory with body.
func DecodeBytes(body []byte, kind events.Feature) ([]events.Wire, []FieldError) {
	items, fe := splitBody(body)
	if fe != nil {
		return nil, []FieldError{*fe}
	}
	if len(items) > 0 && kind == "" && body[skipWS(body, 0)] == '[' {
		return nil, []FieldError{{Line: 1, Field: "kind", Reason: "a JSON array needs the kind of its events (--kind)"}}
	}
	return decodeItems(items, kind, "")
}

// readBody reads a request body into one buffer sized from its declared
// length (the caller has already refused lengths above its limit), so a
// large batch is not copied again and again as io.ReadAll grows it.
func readBody(r io.Reader, length int64) ([]byte, error) {
	if length <= 0 {
		return io.ReadAll(r)
	}
	buf := make([]byte, length+1) // one byte more, to see the end
	n, err := io.ReadFull(r, buf)
	switch {
	case err == nil: // more than declared: read on
		rest, err := io.ReadAll(r)
		return append(buf, rest...), err
	case err == io.ErrUnexpectedEOF && int64(n) == length:
		return buf[:n], nil
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return buf[:n], fmt.Errorf("body ended after %d of %d bytes: %w", n, length, io.ErrUnexpectedEOF)
	}
	return buf[:n], err
}

func capErrors(errs []FieldError) []FieldError {
	if len(errs) > MaxErrors {
		errs = errs[:MaxErrors]
	}
	return errs
}

// Append stores wires in one atomic, durable append to the stream of
// (account, kind) and counts what was new.
func Append(ctx context.Context, st store.EventStore, account string, kind events.Feature, wires []events.Wire) (Result, error) {
	if len(wires) == 0 {
		return Result{}, nil
	}
	recs := make([]store.Record, len(wires))
	for i, w := range wires {
		recs[i] = record(w)
	}
	n, err := st.AppendEvents(ctx, account, kind, recs)
	if err != nil {
		return Result{}, fmt.Errorf("append %d %s: %w", len(recs), kind, err)
	}
	return Result{Accepted: n, Duplicates: len(recs) - n}, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeStatus writes the Events API error body, {"Error":{"Message":…}}.
func writeStatus(w http.ResponseWriter, status int) {
	writeJSON(w, status, map[string]map[string]string{"Error": {"Message": http.StatusText(status)}})
}
