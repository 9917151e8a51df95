package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/logbookhq/logbook/internal/store"
)

// readyTimeout bounds the store query of a readiness check: a store that
// takes longer is not ready.
const readyTimeout = 2 * time.Second

// migrationReporter is a store that lists its pending migrations; both
// stores are.
type migrationReporter interface {
	PendingMigrations(ctx context.Context) ([]string, error)
}

// readiness is the body of GET /readyz.
type readiness struct {
	Status string `json:"status"`           // "ready" or "not ready"
	Reason string `json:"reason,omitempty"` // why not
}

// readyHandler answers GET /readyz: 200 {"status":"ready"} when the store
// answers a query within readyTimeout and has no pending migration, else
// 503 with the reason. The store's error goes to the log, not the client.
// GET /healthz, by contrast, answers 200 as long as the process serves.
func readyHandler(st store.Store, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		res := readiness{Status: "ready"}
		if m, ok := st.(migrationReporter); ok {
			pending, err := m.PendingMigrations(ctx)
			switch {
			case err != nil:
				log.Warn("readiness check: store does not answer", "err", err)
				res = readiness{Status: "not ready", Reason: "store does not answer"}
			case len(pending) > 0:
				res = readiness{Status: "not ready",
					Reason: fmt.Sprintf("migrations pending: %s (run logbook migrate)", strings.Join(pending, ", "))}
			}
		} else if _, err := st.Accounts(ctx); err != nil {
			log.Warn("readiness check: store does not answer", "err", err)
			res = readiness{Status: "not ready", Reason: "store does not answer"}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if res.Status != "ready" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(res)
	})
}
