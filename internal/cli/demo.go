package cli

import (
	"context"
	"time"

	"github.com/logbookhq/logbook/internal/demo"
)

// DemoInfo describes the demo account.
type DemoInfo = demo.Info

// SeedDemo makes the demo account in srv's store (demo.Seed), for serve
// and for tests (internal/servertest).
func SeedDemo(ctx context.Context, srv *Server, data string, now time.Time) (*DemoInfo, error) {
	return demo.Seed(ctx, srv.Store, srv.Admin, data, now)
}
