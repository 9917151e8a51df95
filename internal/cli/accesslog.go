package cli

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/logbookhq/logbook/internal/api"
	"github.com/logbookhq/logbook/internal/logcap"
	"github.com/logbookhq/logbook/internal/metrics"
)

// accessEntry is what the handlers tell the access log and the metrics
// about a request while it is served: the account of the token that
// authenticated it, and why it was refused (a metrics reason).
type accessEntry struct {
	account atomic.Pointer[string]
	reason  atomic.Pointer[string]
}

type accessKey struct{}

// withRequests records every request h serves: in the access log when
// log is set, in m when it is set (see metrics.Metrics.Request).
//
// The access log has one line per request at info level, after the
// response: method, route (the pattern that matched, such as
// "POST /api/v2/auditevents", or "none"), status, bytes of the body,
// duration in milliseconds, and the account UUID when an Events API token
// authenticated it. Never the path, query string, headers or body: no
// token, cursor or search term reaches the log.
func withRequests(h http.Handler, log *slog.Logger, m *metrics.Metrics) http.Handler {
	if log == nil && m == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		e := &accessEntry{}
		// The muxes below set Pattern on this request: each hands the one it
		// got to its handler, so the innermost match is what stays.
		r = r.WithContext(context.WithValue(r.Context(), accessKey{}, e))
		rw := &accessWriter{ResponseWriter: w}
		defer func() {
			status := rw.status
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			if m != nil {
				reason := ""
				if p := e.reason.Load(); p != nil {
					reason = *p
				}
				m.Request(r.Pattern, status, elapsed, reason)
			}
			if log == nil {
				return
			}
			route := r.Pattern
			if route == "" {
				route = "none"
			}
			attrs := []any{"method", logcap.String(r.Method), "route", route, "status", status,
				"bytes", rw.bytes, "duration_ms", float64(elapsed.Microseconds()) / 1000}
			if a := e.account.Load(); a != nil {
				attrs = append(attrs, "account", *a)
			}
			log.Info("request", attrs...)
		}()
		h.ServeHTTP(rw, r)
	})
}

// noteReason tells the metrics why r was refused (one of the metrics
// package's reasons). The last note wins.
func noteReason(r *http.Request, reason string) {
	if e, ok := r.Context().Value(accessKey{}).(*accessEntry); ok {
		e.reason.Store(&reason)
	}
}

// noteAccount wraps an API guard (nil: none) so that the access log learns
// the account of each authenticated request.
func noteAccount(guard func(http.ResponseWriter, *http.Request, api.Call) bool) func(http.ResponseWriter, *http.Request, api.Call) bool {
	return func(w http.ResponseWriter, r *http.Request, call api.Call) bool {
		if e, ok := r.Context().Value(accessKey{}).(*accessEntry); ok {
			a := call.Token.Token.AccountUUID
			e.account.Store(&a)
		}
		return guard != nil && guard(w, r, call)
	}
}

// accessWriter counts what a handler writes.
type accessWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *accessWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *accessWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *accessWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
