package forward

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDedup: an event the stream delivered in the page before, or earlier
// in the same page, is skipped and counted; events without a uuid pass.
func TestDedup(t *testing.T) {
	ids := func(evs []Event) []string {
		var out []string
		for _, ev := range evs {
			out = append(out, ev.UUID)
		}
		return out
	}
	page := func(uuids ...string) []Event {
		var evs []Event
		for _, u := range uuids {
			evs = append(evs, Event{UUID: u})
		}
		return evs
	}
	prev, seen := map[string]struct{}{}, map[string]struct{}{}
	steps := []struct {
		in       []string
		want     []string
		wantDups int
	}{
		{[]string{"a", "b", "c"}, []string{"a", "b", "c"}, 0},
		{[]string{"c", "d", "d", "", ""}, []string{"d", "", ""}, 2}, // c again at the boundary, d twice in the page
		{[]string{"a", "e"}, []string{"a", "e"}, 0},                 // a is two pages back: only the last page counts
	}
	for i, s := range steps {
		got, dups := dedup(page(s.in...), prev, seen)
		prev, seen = seen, prev
		if diff := cmp.Diff(s.want, ids(got)); diff != "" || dups != s.wantDups {
			t.Errorf("page %d: dups = %d, want %d; events (-want +got):\n%s", i, dups, s.wantDups, diff)
		}
	}
}
