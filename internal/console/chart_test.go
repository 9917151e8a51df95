package console

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/internal/store"
)

func TestNiceCeil(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want int64 }{{0, 0}, {1, 1}, {3, 5}, {7, 10}, {11, 20}, {49, 50}, {51, 100}, {1001, 2000}} {
		if got := niceCeil(tt.in); got != tt.want {
			t.Errorf("niceCeil(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestBuildChart(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var counts []store.LabelCount
	// Eight labels over two 6-hour buckets; label i has i+1 events in the
	// first bucket's first hour and one in the second bucket.
	for i := range 8 {
		l := fmt.Sprintf("label%d", i)
		counts = append(counts,
			store.LabelCount{Hour: from, Label: l, N: int64(i + 1)},
			store.LabelCount{Hour: from.Add(7 * time.Hour), Label: l, N: 1},
			store.LabelCount{Hour: from.Add(-time.Hour), Label: l, N: 100}, // before the range
		)
	}
	counts = append(counts, store.LabelCount{Hour: from.Add(11 * time.Hour), Label: "<b>", N: 1})
	ch := buildChart("c", "Test <chart>", counts, from, 6*time.Hour, 2)
	type row struct {
		Label  string
		Total  int64
		Counts []int64
	}
	var got []row
	for _, s := range ch.Series {
		got = append(got, row{s.Label, s.Total, s.Counts})
	}
	want := []row{
		{"label7", 9, []int64{8, 1}},
		{"label6", 8, []int64{7, 1}},
		{"label5", 7, []int64{6, 1}},
		{"label4", 6, []int64{5, 1}},
		{"label3", 5, []int64{4, 1}},
		// label2, label1, label0 and <b>: 4+3+2+1 events.
		{"other", 4 + 3 + 2 + 1, []int64{3 + 2 + 1, 3 + 1}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
	if ch.Total != 45 {
		t.Errorf("total = %d, want 45", ch.Total)
	}
	svg := string(ch.SVG)
	if strings.Contains(svg, "<chart>") || strings.Contains(svg, "<b>") {
		t.Errorf("labels are not escaped in the SVG:\n%s", svg)
	}
	if n := strings.Count(svg, "<rect"); n != 12 {
		t.Errorf("bars = %d, want 12 (6 series × 2 buckets)", n)
	}
}
