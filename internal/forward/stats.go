package forward

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
)

// DefaultProgressInterval is how often a running forwarder reports what it
// did, when Options.ProgressInterval is zero.
const DefaultProgressInterval = time.Minute

// Stats is what a forwarder did since Run started.
type Stats struct {
	Took    time.Duration
	Streams []StreamStats // by source, then feature
	Sinks   []SinkStats   // in configuration order
}

// StreamStats counts one (source, feature) stream's work.
type StreamStats struct {
	Source  string
	Feature events.Feature
	// Pages is the pages fetched and delivered (empty ones included).
	Pages int64
	// Events is the events handed to every sink and confirmed (or spooled).
	Events int64
	// Duplicates is the events skipped because the source sent them again
	// in the same or the next page (see dedup).
	Duplicates int64
	// Drained says the last page delivered had has_more false: the
	// stream has forwarded everything the source had.
	Drained bool
}

// SinkStats counts one sink's work.
type SinkStats struct {
	Sink string
	// Events is the events the sink confirmed, dead letters excluded.
	Events int64
	// DeadLetters is the events it refused for good.
	DeadLetters int64
	// Spooled is the batches waiting in its spool now.
	Spooled int
	// Duplicates is the events given again that the destination already
	// held, for sinks that tell (DuplicateCounter); -1 for the others.
	Duplicates int64
}

// Stats returns what the forwarder did so far; it is safe to call while
// Run runs.
func (f *Forwarder) Stats() Stats {
	f.mu.Lock()
	s := Stats{}
	if !f.started.IsZero() {
		s.Took = time.Since(f.started)
	}
	for _, st := range f.streams {
		s.Streams = append(s.Streams, StreamStats{Source: st.source, Feature: st.feature, Pages: st.pages, Events: st.events, Duplicates: st.duplicates,
			Drained: st.drained})
	}
	f.mu.Unlock()
	slices.SortFunc(s.Streams, func(a, b StreamStats) int {
		if c := strings.Compare(a.Source, b.Source); c != 0 {
			return c
		}
		return strings.Compare(string(a.Feature), string(b.Feature))
	})
	for _, w := range f.workers {
		n, _ := w.spool.stats()
		dups := int64(-1)
		if dc, ok := w.sink.(DuplicateCounter); ok {
			dups = dc.Duplicates()
		}
		s.Sinks = append(s.Sinks, SinkStats{Sink: w.sink.Name(), Events: w.confirmed.Load(), DeadLetters: w.refused.Load(), Spooled: n, Duplicates: dups})
	}
	return s
}

// logSummary writes what the run did: one line per stream and per sink,
// then the totals.
func (f *Forwarder) logSummary() {
	s := f.Stats()
	var events, pages, dups int64
	for _, st := range s.Streams {
		f.log.Info("summary", "source", st.Source, "feature", st.Feature, "events", st.Events, "pages", st.Pages,
			"duplicates_skipped", st.Duplicates)
		events += st.Events
		pages += st.Pages
		dups += st.Duplicates
	}
	for _, sk := range s.Sinks {
		attrs := []any{"sink", sk.Sink, "events", sk.Events, "dead_letters", sk.DeadLetters, "spooled_batches", sk.Spooled}
		if sk.Duplicates >= 0 {
			attrs = append(attrs, "duplicates_absorbed", sk.Duplicates)
		}
		f.log.Info("summary", attrs...)
	}
	f.log.Info("forwarded", "events", events, "pages", pages, "duplicates_skipped", dups, "took", s.Took.Round(time.Millisecond))
}

// reportProgress logs, every interval, what each stream delivered since
// the last report. Once every stream is drained and nothing moved for an
// interval, it says "idle" once, and nothing more until events move
// again (empty polls are not news).
func (f *Forwarder) reportProgress(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	last := map[string]StreamStats{}
	idle := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := f.Stats()
		moved, drained := false, len(s.Streams) > 0
		for _, st := range s.Streams {
			drained = drained && st.Drained
			k := st.Source + "/" + string(st.Feature)
			prev := last[k]
			last[k] = st
			if st.Events == prev.Events && st.Duplicates == prev.Duplicates {
				continue
			}
			moved = true
			f.log.Info("progress", "source", st.Source, "feature", st.Feature, "events", st.Events-prev.Events,
				"pages", st.Pages-prev.Pages, "duplicates_skipped", st.Duplicates-prev.Duplicates, "total_events", st.Events,
				"since", every)
		}
		switch {
		case moved:
			idle = false
		case drained && !idle:
			idle = true
			f.log.Info("idle: nothing new to forward", "since", every)
		}
	}
}

// dedup drops from evs the events whose uuid the stream delivered in the
// page before (prev) or earlier in this page, and returns what is left
// and how many it dropped. Sources deliver at least once (a cursor that
// re-reads a page boundary sends its events again); the sinks already
// have those. seen becomes this page's uuids. Events without a readable
// uuid always pass.
func dedup(evs []Event, prev, seen map[string]struct{}) ([]Event, int) {
	clear(seen)
	out := evs[:0]
	for _, ev := range evs {
		if ev.UUID != "" {
			if _, ok := prev[ev.UUID]; ok {
				continue
			}
			if _, ok := seen[ev.UUID]; ok {
				continue
			}
			seen[ev.UUID] = struct{}{}
		}
		out = append(out, ev)
	}
	return out, len(evs) - len(out)
}
