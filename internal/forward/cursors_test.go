package forward

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
)

func TestRewindStates(t *testing.T) {
	t.Parallel()
	cfg := &Config{Sources: []SourceConfig{{Name: "a"}, {Name: "b"}}}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	names := func(states []State) []string {
		var out []string
		for _, st := range states {
			if st.StartTime == nil || !st.StartTime.Equal(at) || st.Cursor != "" {
				t.Errorf("state %+v, want a reset from %s", st, at)
			}
			out = append(out, st.Source+" "+string(st.Feature))
		}
		return out
	}
	for _, tc := range []struct {
		name, source, feature string
		want                  []string
	}{
		{"all", "", "", []string{"a signinattempts", "a itemusages", "a auditevents", "b signinattempts", "b itemusages", "b auditevents"}},
		{"one source", "b", "", []string{"b signinattempts", "b itemusages", "b auditevents"}},
		{"one feature", "", "itemusages", []string{"a itemusages", "b itemusages"}},
		{"one stream", "a", "auditevents", []string{"a auditevents"}},
		{"unknown source", "c", "", nil},
		{"unknown feature", "", "nosuch", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := slices.Clone(tc.want)
			got := names(RewindStates(cfg, tc.source, tc.feature, at))
			slices.Sort(got)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("RewindStates(%q, %q) (-want +got):\n%s", tc.source, tc.feature, diff)
			}
		})
	}
}

// TestReplaceStates saves states with the time of saving and reports each;
// an invalid state stops it with ErrInvalidState, keeping those before.
func TestReplaceStates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.FixedZone("x", 3600))
	clock := func() time.Time { return now }
	start := now.Add(-time.Hour).UTC()
	states := []State{
		{Source: "a", Feature: events.AuditEvents, Cursor: "c1", Events: 4},
		{Source: "b", Feature: events.ItemUsages, StartTime: &start},
	}
	var reported []string
	if err := ReplaceStates(dir, states, clock, func(st State) { reported = append(reported, st.Source) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(reported, []string{"a", "b"}) {
		t.Errorf("reported %v, want [a b]", reported)
	}
	got, err := Cursors(dir).All()
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(states)
	for i := range want {
		want[i].Saved = now.UTC()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("saved states (-want +got):\n%s", diff)
	}

	for _, bad := range []State{{Feature: events.AuditEvents}, {Source: "c", Feature: "nosuch"}} {
		reported = nil
		err := ReplaceStates(dir, []State{{Source: "c", Feature: events.SignInAttempts}, bad, {Source: "d", Feature: events.AuditEvents}}, clock, func(st State) { reported = append(reported, st.Source) })
		if !errors.Is(err, ErrInvalidState) || !strings.Contains(err.Error(), `source "`+bad.Source+`" feature "`+string(bad.Feature)+`"`) {
			t.Errorf("ReplaceStates with %+v = %v, want ErrInvalidState naming it", bad, err)
		}
		if !slices.Equal(reported, []string{"c"}) {
			t.Errorf("reported %v, want only the state before the invalid one", reported)
		}
	}
	if _, ok, _ := Cursors(dir).Load("d", events.AuditEvents); ok {
		t.Error("a state after an invalid one was saved")
	}
}

// TestCursors: the cursors live under the state directory's cursors/.
func TestCursors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if got := Cursors(dir).Dir; got != filepath.Join(dir, "cursors") {
		t.Errorf("Cursors(dir).Dir = %q, want %q", got, filepath.Join(dir, "cursors"))
	}
}
