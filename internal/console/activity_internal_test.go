package console

import (
	"testing"
	"time"
)

func TestAgo(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Minute, "just now"}, {0, "just now"}, {59 * time.Second, "just now"},
		{time.Minute, "1 min ago"}, {59 * time.Minute, "59 min ago"}, {time.Hour, "1 h ago"},
		{47 * time.Hour, "47 h ago"}, {48 * time.Hour, "2 d ago"}, {30 * 24 * time.Hour, "30 d ago"},
	} {
		if got := ago(now.Add(-tt.d), now); got != tt.want {
			t.Errorf("ago(now-%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
