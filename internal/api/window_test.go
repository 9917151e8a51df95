package api_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/logbookhq/logbook/internal/servertest"
	"github.com/logbookhq/logbook/internal/store"
)

// TestAccountServeWindow: an account's own serving window replaces the
// server's for it: a longer one serves older events, forever serves every
// event stored, 0 goes back to the server's; nothing is deleted on the way.
func TestAccountServeWindow(t *testing.T) {
	clock := &fixedClock{t: t0}
	srv := servertest.Start(t, servertest.Options{Now: clock.Now, Retention: 30 * 24 * time.Hour})
	day := 24 * time.Hour
	srv.Append(t, audit(1, t0.Add(-700*day), srv.Account), audit(2, t0.Add(-200*day), srv.Account), audit(3, t0.Add(-10*day), srv.Account))
	served := func() int {
		t.Helper()
		return len(page(t, do(t, "POST", srv.URL+"/api/v2/auditevents", srv.Token, `{"limit":100,"start_time":"2020-01-01T00:00:00Z"}`)).Items)
	}
	for _, tt := range []struct {
		window time.Duration
		want   int
	}{
		{0, 1}, // the server's 30 days
		{400 * day, 2},
		{store.ServeForever, 3},
		{9 * day, 0},
		{0, 1},
	} {
		if err := srv.Store.SetServeWindow(t.Context(), srv.Account, tt.window); err != nil {
			t.Fatal(err)
		}
		if got := served(); got != tt.want {
			t.Errorf("window %v: %d events served, want %d", fmt.Sprint(tt.window), got, tt.want)
		}
	}
}
