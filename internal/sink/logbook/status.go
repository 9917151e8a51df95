package logbook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/store"
)

// Source is what Status reads of a mirrored Events API; *client.Client is
// one.
type Source interface {
	Introspect(ctx context.Context) (events.Introspection, error)
	RawPage(ctx context.Context, f events.Feature, req client.Request) (events.RawPage, error)
}

// MaxStatusPages bounds the pages Status reads from a source per stream.
const MaxStatusPages = 20

// StreamStatus is how far one stream of the mirror is behind its source.
type StreamStatus struct {
	Account string         `json:"account"`
	Feature events.Feature `json:"feature"`
	// Count is the events the mirror holds in the stream.
	Count int64 `json:"count"`
	// LastUUID and LastTime name the event mirrored last (the stream's
	// highest position); empty when the mirror holds none.
	LastUUID string    `json:"last_uuid,omitempty"`
	LastTime time.Time `json:"last_time,omitzero"`
	// SourceNewest is the timestamp of the newest event the source serves
	// from LastTime on (zero when it serves none).
	SourceNewest time.Time `json:"source_newest,omitzero"`
	// Newer is the events the source serves after the one mirrored last
	// (in the stream's order, which the mirror keeps), which the mirror
	// has yet to receive; AtLeast says the count stopped at
	// MaxStatusPages pages.
	Newer   int  `json:"newer_at_source"`
	AtLeast bool `json:"at_least,omitempty"`
	// Lag is how much newer the newest of those events is than the one
	// mirrored last; 0 when the mirror is level.
	Lag time.Duration `json:"lag_ns"`
}

// Status reports, for each stream of the source's account that src's
// token may read, what the local mirror holds and how far it is behind
// src. It opens the store; a remote mirror is an error.
func (s *Sink) Status(ctx context.Context, src Source) ([]StreamStatus, error) {
	if s.opts.URL != "" {
		return nil, errors.New("a remote mirror: ask its own server (its Events API serves what it holds)")
	}
	in, err := src.Introspect(ctx)
	if err != nil {
		return nil, fmt.Errorf("introspect the source: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	var out []StreamStatus
	for _, f := range events.AllFeatures {
		if !slices.Contains(in.Features, f) {
			continue
		}
		ss, err := streamStatus(ctx, st, src, in.AccountUUID, f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, ss)
	}
	return out, nil
}

func streamStatus(ctx context.Context, st store.Store, src Source, account string, f events.Feature) (StreamStatus, error) {
	ss := StreamStatus{Account: account, Feature: f}
	head, err := st.HeadPosition(ctx, account, f)
	if err != nil {
		return ss, err
	}
	if head > 0 {
		res, err := st.ListEvents(ctx, store.ListQuery{Account: account, Feature: f, After: head - 1, Limit: 1})
		if err != nil {
			return ss, err
		}
		if len(res.Rows) == 1 {
			ev, _ := forward.ScanEvent(res.Rows[0].Data)
			ss.LastUUID, ss.LastTime = ev.UUID, res.Rows[0].Time.UTC()
		}
		counts, err := st.CountEvents(ctx, account, f, time.Time{}, time.Now().Add(100*365*24*time.Hour))
		if err != nil {
			return ss, err
		}
		for _, c := range counts {
			ss.Count += c.N
		}
	}
	// The source's stream is in the mirror's order: the events it serves
	// after the one mirrored last are those the mirror lacks. (If that
	// event is not among those served, count the newer timestamps.)
	start := ss.LastTime
	if start.IsZero() {
		start = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	req := client.FromReset(events.ResetCursor{Limit: 1000, StartTime: &start})
	passed := ss.LastUUID == ""
	newerByTime := 0
	var pending time.Time // the newest timestamp of the events after it
	for page := 0; ; page++ {
		if page == MaxStatusPages {
			ss.AtLeast = true
			break
		}
		p, err := src.RawPage(ctx, f, req)
		if err != nil {
			return ss, fmt.Errorf("the source: %w", err)
		}
		for _, it := range p.Items {
			ev, err := forward.ScanEvent(it)
			if err != nil {
				continue
			}
			if ev.Time.After(ss.SourceNewest) {
				ss.SourceNewest = ev.Time.UTC()
			}
			if ev.Time.After(ss.LastTime) {
				newerByTime++
			}
			switch {
			case passed:
				ss.Newer++
				if ev.Time.After(pending) {
					pending = ev.Time
				}
			case ev.UUID == ss.LastUUID:
				passed = true
			}
		}
		if !p.HasMore {
			break
		}
		req = client.FromCursor(p.Cursor)
	}
	if !passed {
		ss.Newer, pending = newerByTime, ss.SourceNewest
	}
	if !ss.LastTime.IsZero() && pending.After(ss.LastTime) {
		ss.Lag = pending.Sub(ss.LastTime)
	}
	return ss, nil
}
