package ingest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/servertest"
)

// postStatus posts body and returns the status and reply, failing the test
// if the server drops the connection instead of answering.
func postStatus(t testing.TB, c *http.Client, url, key string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %q: no reply: %v", truncated(body), err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func truncated(b []byte) string {
	if len(b) > 80 {
		return string(b[:40]) + "…" + string(b[len(b)-40:])
	}
	return string(b)
}

// TestIngestArrayEndsEarly: a JSON array that ends right after [ or , is
// a 400 naming line, field and reason (it used to panic the handler, which
// dropped the connection).
func TestIngestArrayEndsEarly(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	key := newKey(t, srv)
	url := srv.URL + ingest.Prefix + "auditevents"
	ev := string(simulated(t, events.AuditEvents, 1, 5)[0])
	for _, tc := range []struct {
		body string
		want ingest.FieldError
	}{
		{`[`, ingest.FieldError{Line: 1, Field: "body", Reason: "not valid JSON: the array ends before its closing ]"}},
		{"[   \n", ingest.FieldError{Line: 1, Field: "body", Reason: "not valid JSON: the array ends before its closing ]"}},
		{`[{"uuid":"X"},`, ingest.FieldError{Line: 2, Field: "body", Reason: "not valid JSON: the array ends before its closing ]"}},
		{"[" + ev + ",  ", ingest.FieldError{Line: 2, Field: "body", Reason: "not valid JSON: the array ends before its closing ]"}},
		{"[" + ev, ingest.FieldError{Line: 1, Field: "body", Reason: "not valid JSON: want , or ] after this element"}},
	} {
		status, body := postStatus(t, http.DefaultClient, url, key, []byte(tc.body))
		var got ingest.Refusal
		if err := json.Unmarshal(body, &got); status != 400 || err != nil || len(got.Errors) != 1 || got.Errors[0] != tc.want {
			t.Errorf("%q: %d %s, want 400 with %+v", truncated([]byte(tc.body)), status, body, tc.want)
		}
	}
	if head, _ := srv.Store.HeadPosition(t.Context(), srv.Account, events.AuditEvents); head != 0 {
		t.Errorf("head position %d, want nothing stored", head)
	}
}

// TestIngestEveryTruncation posts every prefix of a valid array and NDJSON
// batch: each gets a status line (200 for the prefixes that are whole
// batches, else 400 with a line, field and reason), never a dropped
// connection.
func TestIngestEveryTruncation(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	key := newKey(t, srv)
	c := &http.Client{}
	for _, kind := range events.AllFeatures {
		evs := simulated(t, kind, 3, 6)
		url := srv.URL + ingest.Prefix + string(kind)
		for name, body := range map[string][]byte{"array": arrayBody(evs), "ndjson": ndjsonBody(evs)} {
			t.Run(fmt.Sprintf("%s/%s", kind, name), func(t *testing.T) {
				for n := 0; n <= len(body); n++ {
					status, reply := postStatus(t, c, url, key, body[:n])
					switch status {
					case 200:
					case 400:
						var r ingest.Refusal
						if err := json.Unmarshal(reply, &r); err != nil || len(r.Errors) == 0 || r.Errors[0].Field == "" || r.Errors[0].Reason == "" {
							t.Fatalf("prefix %d: 400 without field and reason: %s", n, reply)
						}
						if strings.TrimSpace(string(body[:n])) != "" && r.Errors[0].Line == 0 && name == "ndjson" {
							t.Fatalf("prefix %d: 400 without a line: %s", n, reply)
						}
					default:
						t.Fatalf("prefix %d: status %d: %s", n, status, reply)
					}
				}
			})
		}
	}
}
