package ingest

import (
	"bytes"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/logbookhq/logbook/events"
)

// TestErrorReplies pins the status, headers and body of every way the
// handler answers a request it does not store, and that only a 500 is
// logged as an error: serve returns these as errors and handle writes them.
func TestErrorReplies(t *testing.T) {
	st, key := keyedStore(t)
	var logs bytes.Buffer
	h := newHandler(Config{Store: st, MaxBody: 64, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	const unauthorized = `{"Error":{"Message":"Unauthorized"}}`
	for _, tc := range []struct {
		name, auth, body string
		status           int
		want             string
		header           map[string]string
	}{
		{"no key", "", "{}", 401, unauthorized, map[string]string{"WWW-Authenticate": `Bearer realm="logbook ingest"`}},
		{"basic", "Basic " + key, "{}", 401, unauthorized, map[string]string{"WWW-Authenticate": `Bearer realm="logbook ingest"`}},
		{"bad key", "Bearer " + key[:len(key)-1] + "x", "{}", 401, unauthorized, nil},
		{"too large", "Bearer " + key, strings.Repeat(" ", 65), 413,
			`{"errors":[{"line":0,"field":"body","reason":"is larger than 64 bytes; send smaller batches"}]}`, map[string]string{"Connection": "close"}},
		{"invalid", "Bearer " + key, `{"uuid":1}`, 400, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", Prefix+string(events.ItemUsages), strings.NewReader(tc.body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Errorf("status = %d, want %d (%s)", rec.Code, tc.status, rec.Body)
			}
			if tc.want != "" && rec.Body.String() != tc.want {
				t.Errorf("body = %s, want %s", rec.Body, tc.want)
			}
			if tc.want == "" && !strings.HasPrefix(rec.Body.String(), `{"errors":[{`) {
				t.Errorf("body = %s, want a Refusal", rec.Body)
			}
			for k, v := range tc.header {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a refusal was logged as an error:\n%s", logs.String())
	}

	// A store that cannot answer is a 500 with the Events API body; the
	// detail goes to the log only.
	st.Close()
	req := httptest.NewRequest("POST", Prefix+string(events.ItemUsages), io.NopCloser(strings.NewReader("{}")))
	req.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 500 || rec.Body.String() != `{"Error":{"Message":"Internal Server Error"}}` {
		t.Errorf("closed store: %d %s, want 500 and the Events API body", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "level=ERROR msg=ingest") || !strings.Contains(logs.String(), "look up ingest key") {
		t.Errorf("closed store: log lacks the error:\n%s", logs.String())
	}
	if rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", rec.Header().Get("Content-Type"))
	}
}
