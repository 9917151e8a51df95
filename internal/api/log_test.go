package api_test

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/logbookhq/logbook/internal/servertest"
)

// lockedBuffer is a bytes.Buffer that handlers may write to concurrently.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLogLinesBounded: values from a request reach the log capped, however
// large they are; unauthenticated requests with a 700 KB kid wrote 700 KB
// log lines (issue 12, item 6).
func TestLogLinesBounded(t *testing.T) {
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := servertest.Start(t, servertest.Options{Logger: log})
	const big = 700 << 10
	huge := strings.Repeat("k", big)
	b64 := base64.RawURLEncoding.EncodeToString
	bigKid := b64([]byte(`{"alg":"ES256","kid":"`+huge+`","typ":"JWT"}`)) + "." + b64([]byte(`{}`)) + "." + b64(make([]byte, 64))
	digits := strings.Repeat("7", 60<<10)
	for _, tc := range []struct{ method, path, token, body string }{
		{"POST", "/api/v2/signinattempts", bigKid, `{}`},
		{"POST", "/api/v1/auditevents", bigKid, `{}`},
		{"GET", "/api/v2/auth/introspect", bigKid, ``},
		{"POST", "/api/v2/itemusages", huge, `{}`},
		{"POST", "/api/v2/itemusages", srv.Token, `{"limit":1.` + digits + `}`},
		{"POST", "/api/v2/itemusages", srv.Token, `{"start_time":"` + digits + `"}`},
		{"POST", "/api/v2/itemusages", srv.Token, `{"cursor":"` + digits + `"}`},
		{"POST", "/api/v2/ingest/auditevents", "lbi_" + huge, `[]`},
		{"POST", "/api/v2/ingest/" + strings.Repeat("p", 500<<10), "lbi_x", `[]`},
		{"GET", "/admin/api/v1/accounts", "lba_" + huge, ``},
		{"GET", "/admin/api/v1/" + strings.Repeat("p", 500<<10), "lba_x", ``},
	} {
		r := do(t, tc.method, srv.URL+tc.path, tc.token, tc.body)
		if r.status < 400 {
			t.Errorf("%s %.40s: status %d, want an error", tc.method, tc.path, r.status)
		}
	}
	out := logs.String()
	if out == "" {
		t.Fatal("nothing was logged; the test proves nothing")
	}
	const maxLine = 4 << 10
	longest := 0
	for _, line := range strings.Split(out, "\n") {
		longest = max(longest, len(line))
		if len(line) > maxLine {
			t.Errorf("log line of %d bytes (limit %d): %.300s…", len(line), maxLine, line)
		}
	}
	if len(out) > 64<<10 {
		t.Errorf("%d requests logged %d bytes", 11, len(out))
	}
	t.Logf("%d bytes of log, longest line %d bytes", len(out), longest)
}
