package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
)

// TestReadyzWhileDraining: once Close begins, GET /readyz answers 503
// "shutting down" (to a load balancer whose check reaches a connection
// still open); before, the store decides. A zero shutdown timeout is the
// default. (The signals, the bound and in-flight requests are tested with
// a real process in cmd/logbook: TestServeGracefulShutdown.)
func TestReadyzWhileDraining(t *testing.T) {
	st := sqlitetest.New(t)
	s, err := StartServer(t.Context(), ServerOptions{Store: st, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if s.shutdownTimeout != DefaultShutdownTimeout {
		t.Errorf("shutdown timeout = %v, want the default %v", s.shutdownTimeout, DefaultShutdownTimeout)
	}
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		s.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code, strings.TrimSpace(rec.Body.String())
	}
	if code, body := get(); code != http.StatusOK {
		t.Fatalf("readyz before Close = %d %s, want 200", code, body)
	}
	began := time.Now()
	if err := s.Close(); err != nil {
		t.Fatalf("Close of an idle server: %v", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("Close of an idle server took %v", took)
	}
	if code, body := get(); code != http.StatusServiceUnavailable || body != `{"status":"not ready","reason":"shutting down"}` {
		t.Errorf("readyz once Close began = %d %s, want 503 shutting down", code, body)
	}
	if _, err := http.Get(s.ListenURL + "/healthz"); err == nil {
		t.Error("a request after Close was served, want the connection refused")
	}
}
