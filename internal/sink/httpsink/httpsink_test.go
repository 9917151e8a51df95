package httpsink

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/sink/sinktest"
)

// request is what the test endpoint received.
type request struct {
	header http.Header
	events []string // raw events as decoded from the body
}

// endpoint records requests and answers with the statuses queued in
// replies (200 when none is left).
type endpoint struct {
	t       *testing.T
	mu      sync.Mutex
	got     []request
	replies []int
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			e.t.Errorf("gzip body: %v", err)
			return
		}
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		e.t.Errorf("read body: %v", err)
	}
	var evs []string
	switch r.Header.Get("Content-Type") {
	case "application/json":
		var arr []json.RawMessage
		if err := json.Unmarshal(data, &arr); err != nil {
			e.t.Errorf("JSON array body %q: %v", data, err)
		}
		for _, a := range arr {
			evs = append(evs, string(a))
		}
	case "application/x-ndjson":
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			evs = append(evs, sc.Text())
		}
	default:
		e.t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	e.mu.Lock()
	e.got = append(e.got, request{r.Header.Clone(), evs})
	status := 200
	if len(e.replies) > 0 {
		status, e.replies = e.replies[0], e.replies[1:]
	}
	e.mu.Unlock()
	if status != 200 {
		http.Error(w, fmt.Sprintf("status %d\nsecond line", status), status)
	}
}

func setup(t *testing.T, replies ...int) (*endpoint, string) {
	e := &endpoint{t: t, replies: replies}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return e, srv.URL
}

func batch(n int) forward.Batch {
	b := forward.Batch{Source: "demo", Feature: events.AuditEvents}
	for i := range n {
		b.Events = append(b.Events, forward.Event{UUID: fmt.Sprintf("E%d", i), Data: []byte(fmt.Sprintf(`{"uuid":"E%d","n":%d}`, i, i))})
	}
	return b
}

// TestFormats: NDJSON or a JSON array, plain or gzip, carry exactly the
// raw events, with the configured headers and the token.
func TestFormats(t *testing.T) {
	for _, format := range []string{"ndjson", "json"} {
		for _, gz := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/gzip=%v", format, gz), func(t *testing.T) {
				e, url := setup(t)
				s, err := Open("collector", Options{URL: url, Format: format, Gzip: gz, Headers: map[string]string{"X-Source": "logbook"}}, "s3cret")
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				b := batch(3)
				sinktest.Write(t, s, b)
				if len(e.got) != 1 {
					t.Fatalf("%d requests, want 1", len(e.got))
				}
				r := e.got[0]
				if diff := cmp.Diff(sinktest.Data(b), r.events); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
				for k, want := range map[string]string{"X-Source": "logbook", "Authorization": "Bearer s3cret", "Idempotency-Key": IdempotencyKey(b.Events)} {
					if got := r.header.Get(k); got != want {
						t.Errorf("header %s = %q, want %q", k, got, want)
					}
				}
			})
		}
	}
}

// TestRetrySameKey: a 503 or 429 is a temporary error (the batch is
// retried), and the retry carries the same Idempotency-Key.
func TestRetrySameKey(t *testing.T) {
	for _, status := range []int{503, 500, 429, 408} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e, url := setup(t, status)
			s, err := Open("collector", Options{URL: url}, "")
			if err != nil {
				t.Fatal(err)
			}
			b := batch(4)
			sinktest.Temporary(t, s.Write(t.Context(), b), fmt.Sprint(status)) // naming the status
			sinktest.Write(t, s, b)                                            // the retry
			if len(e.got) != 2 {
				t.Fatalf("%d requests, want 2", len(e.got))
			}
			k1, k2 := e.got[0].header.Get("Idempotency-Key"), e.got[1].header.Get("Idempotency-Key")
			if k1 == "" || k1 != k2 {
				t.Errorf("Idempotency-Key %q then %q, want the same non-empty key", k1, k2)
			}
		})
	}
}

// TestRejected: a 4xx refuses the events of that request for good, with
// the status and the first line of the reply as the reason; the other
// requests of the batch (max_events) still count.
func TestRejected(t *testing.T) {
	e, url := setup(t, 200, 400, 200)
	s, err := Open("collector", Options{URL: url, MaxEvents: 2}, "")
	if err != nil {
		t.Fatal(err)
	}
	rej := sinktest.Rejected(t, s.Write(t.Context(), batch(5)))
	want := []forward.Rejection{{Index: 2, Reason: "HTTP 400: status 400"}, {Index: 3, Reason: "HTTP 400: status 400"}}
	if diff := cmp.Diff(want, rej); diff != "" {
		t.Errorf("rejections (-want +got):\n%s", diff)
	}
	var sizes []int
	for _, r := range e.got {
		sizes = append(sizes, len(r.events))
	}
	if diff := cmp.Diff([]int{2, 2, 1}, sizes); diff != "" {
		t.Errorf("events per request (-want +got):\n%s", diff)
	}
}

func TestIdempotencyKey(t *testing.T) {
	a := batch(3).Events
	b := batch(3).Events
	if IdempotencyKey(a) != IdempotencyKey(b) {
		t.Error("same uuids, different keys")
	}
	if IdempotencyKey(a) == IdempotencyKey(a[:2]) {
		t.Error("different uuids, same key")
	}
	// The separator keeps ["AB","C"] apart from ["A","BC"].
	x := []forward.Event{{UUID: "AB"}, {UUID: "C"}}
	y := []forward.Event{{UUID: "A"}, {UUID: "BC"}}
	if IdempotencyKey(x) == IdempotencyKey(y) {
		t.Error("uuid boundaries not part of the key")
	}
}

func TestNew(t *testing.T) {
	harness := sinktest.Harness{New: New, Type: "http", Name: "collector", Env: map[string]string{"COLLECTOR_TOKEN": "tok-value-123"}}
	hs := sinktest.Opener[*Sink](harness)(t, "url: http://127.0.0.1:9/x\nformat: json\ngzip: true\ntoken_env: COLLECTOR_TOKEN\nauth_header: X-Auth\nauth_scheme: \"\"")
	if got := hs.header.Get("X-Auth"); got != "tok-value-123" {
		t.Errorf("X-Auth = %q, want the bare token", got)
	}
	harness.RefusedAll(t, []sinktest.Refusal{ // and the errors do not show the token
		{Name: "missing url", Doc: "format: json", Want: []string{"url: required"}},
		{Name: "bad url", Doc: "url: ftp://x", Want: []string{"url: \"ftp://x\" is not an http or https URL"}},
		{Name: "bad format", Doc: "url: http://x\nformat: xml", Want: []string{"format: \"xml\": want ndjson or json"}},
		{Name: "bad header", Doc: "url: http://x\nheaders: {\"Bad Header\": v}", Want: []string{"headers: \"Bad Header\" is not a valid header"}},
		{Name: "unset env", Doc: "url: http://x\ntoken_env: MISSING", Want: []string{"token_env: environment variable MISSING is not set"}},
		{Name: "missing ca file", Doc: "url: http://x\nca_file: ./nope.pem", Want: []string{"ca_file:"}},
		{Name: "unknown key", Doc: "url: http://x\nbatch: 3", Want: []string{"batch"}},
	})
}
