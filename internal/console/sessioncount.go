package console

import (
	"context"
	"net/http"
)

// NewHandlerCounting is NewHandler, and also returns a function counting
// the handler's open sessions: signed in and not expired. Sessions live in
// this process's memory, so the count is this server's.
func NewHandlerCounting(cfg Config) (http.Handler, func(context.Context) (int, error), error) {
	h, err := newHandler(cfg)
	if err != nil {
		return nil, nil, err
	}
	return h.routes(), func(context.Context) (int, error) { return h.sessions.count(), nil }, nil
}

// count returns how many sessions have not expired.
func (t *sessions) count() int {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, s := range t.m {
		if !expired(s, now) {
			n++
		}
	}
	return n
}
