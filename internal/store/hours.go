package store

import "time"

// Both backends keep per-hour summaries of each stream (event_hours,
// event_labels): an event is in the hour bucket of its timestamp, in unix
// nanoseconds. This file is that arithmetic, written once.

// HourNanos is the width of one hour bucket.
const HourNanos = int64(time.Hour)

// HourOf returns the bucket of a unix-nanosecond time (floor division, so
// times before 1970 land in the right bucket too).
func HourOf(ns int64) int64 {
	h := ns / HourNanos
	if ns%HourNanos < 0 {
		h--
	}
	return h
}

// HourTime is the start of hour bucket h.
func HourTime(h int64) time.Time { return time.Unix(0, h*HourNanos).UTC() }

// HourSpan is the times [From, To), in unix nanoseconds, that CountEvents
// counts: an hour it covers whole is read from the per-hour label counts,
// one it covers in part (its first or its last) from the hour's events.
type HourSpan struct{ From, To int64 }

// First returns the first hour the span touches.
func (s HourSpan) First() int64 { return HourOf(s.From) }

// Last returns the last hour the span touches.
func (s HourSpan) Last() int64 { return HourOf(s.To - 1) }

// Partial reports whether the span covers hour h only in part.
func (s HourSpan) Partial(h int64) bool {
	return h*HourNanos < s.From || (h+1)*HourNanos > s.To
}

// PartialHours returns the hours the span covers only in part, in order:
// at most its first and its last.
func (s HourSpan) PartialHours() []int64 {
	var hs []int64
	for _, h := range []int64{s.First(), s.Last()} {
		if s.Partial(h) && (len(hs) == 0 || hs[0] != h) {
			hs = append(hs, h)
		}
	}
	return hs
}

// Clip returns the part [lo, hi) of hour h inside the span.
func (s HourSpan) Clip(h int64) (lo, hi int64) {
	return max(s.From, h*HourNanos), min(s.To, (h+1)*HourNanos)
}
