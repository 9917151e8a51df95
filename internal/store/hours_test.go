package store

import (
	"slices"
	"testing"
)

func TestHourOf(t *testing.T) {
	for _, c := range []struct{ ns, want int64 }{
		{0, 0}, {HourNanos - 1, 0}, {HourNanos, 1}, {-1, -1}, {-HourNanos, -1}, {-HourNanos - 1, -2},
	} {
		if got := HourOf(c.ns); got != c.want {
			t.Errorf("HourOf(%d) = %d, want %d", c.ns, got, c.want)
		}
	}
}

func TestHourSpanPartialHours(t *testing.T) {
	const h = HourNanos
	for _, c := range []struct {
		span HourSpan
		want []int64
	}{
		{HourSpan{0, 3 * h}, nil},                 // whole hours only
		{HourSpan{h / 2, 3 * h}, []int64{0}},      // first in part
		{HourSpan{0, 2*h + 1}, []int64{2}},        // last in part
		{HourSpan{h / 2, 2*h + 1}, []int64{0, 2}}, // both
		{HourSpan{h + 1, h + 2}, []int64{1}},      // one hour, in part, once
		{HourSpan{-h / 2, h / 2}, []int64{-1, 0}}, // across 1970
	} {
		if got := c.span.PartialHours(); !slices.Equal(got, c.want) {
			t.Errorf("%+v.PartialHours() = %v, want %v", c.span, got, c.want)
		}
	}
	if lo, hi := (HourSpan{h / 2, 2*h + 1}).Clip(0); lo != h/2 || hi != h {
		t.Errorf("Clip(0) = [%d, %d), want [%d, %d)", lo, hi, h/2, h)
	}
}
