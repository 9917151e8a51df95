package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// DefaultShutdownTimeout is how long Close waits for requests in flight
// when ServerOptions.ShutdownTimeout is zero: long enough for an ingest
// batch or a page on a slow link, and short of the 30 s that Kubernetes
// (terminationGracePeriodSeconds) and many process supervisors give
// between SIGTERM and SIGKILL.
const DefaultShutdownTimeout = 20 * time.Second

// handlerGrace bounds how long Close waits, once the shutdown timeout has
// cut requests off (connections closed, request contexts cancelled), for
// their handlers to return before the store may be closed under them.
const handlerGrace = 2 * time.Second

// requestCounter counts the requests whose handlers are running.
type requestCounter struct{ n atomic.Int64 }

func (c *requestCounter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.n.Add(1)
		defer c.n.Add(-1)
		h.ServeHTTP(w, r)
	})
}

// waitIdle waits up to d for no handler to be running and reports whether
// none is.
func (c *requestCounter) waitIdle(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for c.n.Load() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond) // as http.Server.Shutdown polls
	}
	return true
}

// unlessDraining answers GET /readyz with 503 "shutting down" once Close
// has begun, so that a load balancer checking over a connection still
// open stops sending; until then next answers.
func unlessDraining(draining func() bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !draining() {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(readiness{Status: "not ready", Reason: "shutting down"})
	})
}

// Close shuts the server down: it stops accepting connections at once
// (both listeners), makes GET /readyz answer 503, closes idle connections,
// and waits up to the shutdown timeout for the requests in flight to
// finish. Requests still running then are cut off: their connections are
// closed and their contexts cancelled, so store work in progress (an
// ingest append) rolls back whole; Close then waits up to handlerGrace for
// their handlers to return and reports how many were cut off. It does not
// close the store. Calling it again returns the first result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.draining.Store(true)
		timeout := s.shutdownTimeout
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		consoleDone := make(chan error, 1)
		if s.consoleSrv != nil {
			go func() { consoleDone <- s.consoleSrv.Shutdown(ctx) }()
		} else {
			consoleDone <- nil
		}
		err := s.srv.Shutdown(ctx)
		if cerr := <-consoleDone; err == nil {
			err = cerr
		}
		if ctx.Err() != nil {
			cut := s.requests.n.Load()
			s.cancelRequests()
			s.srv.Close()
			if s.consoleSrv != nil {
				s.consoleSrv.Close()
			}
			if !s.requests.waitIdle(handlerGrace) {
				s.log.Warn("handlers still running after their requests were cut off", "handlers", s.requests.n.Load())
			}
			err = fmt.Errorf("shutdown: the shutdown timeout (%s) passed with %d request(s) in flight: they were cut off, their connections closed and their unfinished store work cancelled",
				timeout, cut)
		}
		s.cancelRequests()
		s.closeErr = err
		if serr := <-s.done; serr != nil {
			s.closeErr = serr
		}
		// Scrapes are short: the metrics listener serves until the end
		// of the drain, so the drain itself can be watched, then closes.
		if s.metricsSrv != nil {
			s.metricsSrv.Close()
		}
		s.sandbox.close(s.log)
	})
	return s.closeErr
}
