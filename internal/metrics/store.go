package metrics

import (
	"context"
	"iter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// Store ops, the values of logbook_store_duration_seconds's op label.
const (
	opAppend        = "append"         // AppendEvents and AppendEventsSeq
	opReadPage      = "read_page"      // ListEvents and ListEventsWithToken: one page of a stream
	opStartPosition = "start_position" // StartPosition: where a new cursor starts
)

// Store returns st with the latency of its appends, page reads and start
// positions recorded in logbook_store_duration_seconds. Every other
// method is st's own. The result is only a store.Store: hand it to the
// request path (the API and ingestion), not to code that looks for other
// interfaces on the store.
func (m *Metrics) Store(st store.Store) store.Store {
	if m == nil {
		return st
	}
	obs := func(op string) prometheus.Observer { return m.storeLatency.WithLabelValues(m.backend, op) }
	return &timedStore{Store: st, append: obs(opAppend), readPage: obs(opReadPage), startPosition: obs(opStartPosition)}
}

// timedStore times the event methods the request path calls.
type timedStore struct {
	store.Store
	append, readPage, startPosition prometheus.Observer
}

var _ store.Store = (*timedStore)(nil)

func (s *timedStore) AppendEvents(ctx context.Context, account string, feature events.Feature, recs []store.Record) (int, error) {
	start := time.Now()
	n, err := s.Store.AppendEvents(ctx, account, feature, recs)
	s.append.Observe(time.Since(start).Seconds())
	return n, err
}

func (s *timedStore) AppendEventsSeq(ctx context.Context, account string, feature events.Feature, recs iter.Seq2[store.Record, error]) (int, error) {
	start := time.Now()
	n, err := s.Store.AppendEventsSeq(ctx, account, feature, recs)
	s.append.Observe(time.Since(start).Seconds())
	return n, err
}

func (s *timedStore) ListEvents(ctx context.Context, q store.ListQuery) (store.ListResult, error) {
	start := time.Now()
	res, err := s.Store.ListEvents(ctx, q)
	s.readPage.Observe(time.Since(start).Seconds())
	return res, err
}

func (s *timedStore) ListEventsWithToken(ctx context.Context, tokenID string, q store.ListQuery, check func(store.Token) error) (store.ListResult, error) {
	start := time.Now()
	res, err := s.Store.ListEventsWithToken(ctx, tokenID, q, check)
	s.readPage.Observe(time.Since(start).Seconds())
	return res, err
}

func (s *timedStore) StartPosition(ctx context.Context, account string, feature events.Feature, t time.Time) (int64, error) {
	start := time.Now()
	pos, err := s.Store.StartPosition(ctx, account, feature, t)
	s.startPosition.Observe(time.Since(start).Seconds())
	return pos, err
}
