package forward_test

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/internal/forward"
)

// TestDiagnoseTLS: an untrusted certificate and plain HTTP sent to a TLS
// server are permanent errors that point at the source's url or ca_file.
func TestDiagnoseTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failures are the point
	srv.StartTLS()
	defer srv.Close()
	for _, tt := range []struct {
		name, url string
		want      []string
	}{
		{"untrusted", srv.URL, []string{"not trusted", "ca_file"}},
		{"http-to-tls", strings.Replace(srv.URL, "https://", "http://", 1), []string{"400", "url"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(tt.url, "token")
			if err != nil {
				t.Fatal(err)
			}
			_, err = clientSource{c}.Introspect(t.Context())
			pe := forward.Diagnose("demo", err)
			if pe == nil {
				t.Fatalf("Diagnose(%v) = nil, want a permanent error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(pe.Error(), w) {
					t.Errorf("Diagnose = %q, want it to contain %q", pe.Error(), w)
				}
			}
		})
	}
}
