package client_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
)

// fakeToken builds an unsigned JWT-shaped token with the given aud claim.
func fakeToken(aud any) string {
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","typ":"JWT"}`))
	claims, _ := json.Marshal(map[string]any{"aud": aud, "1password.com/fts": []string{"auditevents"}})
	return hdr + "." + base64.RawURLEncoding.EncodeToString(claims) + ".c2ln"
}

// recorded is one request the test server saw.
type recorded struct {
	Method, Path, ContentType, Auth string
	Body                            map[string]any
}

// testBundle is a fake Events API server whose replies each test scripts.
type testBundle struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []recorded
	handler func(w http.ResponseWriter, r *http.Request, body map[string]any)
}

func setup(t *testing.T, tls bool) *testBundle {
	t.Helper()
	b := &testBundle{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		data, _ := io.ReadAll(r.Body)
		if len(data) > 0 {
			if err := json.Unmarshal(data, &body); err != nil {
				t.Errorf("request body %q is not JSON: %v", data, err)
			}
		}
		b.mu.Lock()
		b.reqs = append(b.reqs, recorded{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), body})
		h := b.handler
		b.mu.Unlock()
		h(w, r, body)
	})
	if tls {
		b.srv = httptest.NewTLSServer(h)
	} else {
		b.srv = httptest.NewServer(h)
	}
	t.Cleanup(b.srv.Close)
	return b
}

func (b *testBundle) requests() []recorded {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]recorded(nil), b.reqs...)
}

func reply(status int, header map[string]string, body string) func(http.ResponseWriter, *http.Request, map[string]any) {
	return func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   client.Error
	}{
		{"429 with Retry-After seconds", 429, map[string]string{"Retry-After": "7"}, `{"Error":{"Message":"Too Many Requests"}}`,
			client.Error{StatusCode: 429, Message: "Too Many Requests", RetryAfter: 7 * time.Second}},
		{"429 without body", 429, nil, ``, client.Error{StatusCode: 429, Message: "Too Many Requests"}},
		{"500", 500, nil, `{"Error":{"Message":"Internal Server Error"}}`, client.Error{StatusCode: 500, Message: "Internal Server Error"}},
		{"401", 401, nil, `{"Error":{"Message":"Unauthorized"}}`, client.Error{StatusCode: 401, Message: "Unauthorized"}},
		{"400 status/message shape", 400, nil, `{"status":400,"message":"bad limit"}`, client.Error{StatusCode: 400, Message: "bad limit"}},
		{"404 plain text", 404, nil, "404 page not found\n", client.Error{StatusCode: 404, Message: "404 page not found"}},
		{"502 html", 502, nil, "<html>\nbad gateway</html>", client.Error{StatusCode: 502, Message: "<html>"}},
		{"bad Retry-After ignored", 503, map[string]string{"Retry-After": "soon"}, ``, client.Error{StatusCode: 503, Message: "Service Unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, false)
			b.handler = reply(tt.status, tt.header, tt.body)
			c, err := client.New(b.srv.URL, "tok")
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.AuditEvents(t.Context(), client.FromCursor("abc"))
			var got *client.Error
			if !errors.As(err, &got) {
				t.Fatalf("AuditEvents error = %v, want a *client.Error", err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if got.Temporary() != (tt.status == 429 || tt.status >= 500) {
				t.Errorf("Temporary() = %v for %d", got.Temporary(), tt.status)
			}
		})
	}
}

func TestRetryAfterDate(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	b.handler = reply(429, map[string]string{"Retry-After": time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)}, "")
	c, _ := client.New(b.srv.URL, "tok")
	_, err := c.ItemUsages(t.Context(), client.Request{})
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want *client.Error", err)
	}
	if e.RetryAfter < 80*time.Second || e.RetryAfter > 91*time.Second {
		t.Errorf("RetryAfter = %v, want about 90s", e.RetryAfter)
	}
}

func TestMalformedPage(t *testing.T) {
	t.Parallel()
	bodies := []string{
		`not json`,
		`{"cursor":"a","has_more":false,"items":[1,2]}`,
		`{"cursor":"a","has_more":"no","items":[]}`,
		`{"cursor":"a","has_more":false,"items":[{"uuid":"x"}`,
		`{"has_more":false,"items":[]}`,
		`[]`,
	}
	for i, body := range bodies {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			b := setup(t, false)
			b.handler = reply(200, nil, body)
			c, _ := client.New(b.srv.URL, "tok")
			_, err := c.RawPage(t.Context(), events.AuditEvents, client.Request{})
			if err == nil {
				t.Fatalf("RawPage of %q succeeded, want an error", body)
			}
			var e *client.Error
			if errors.As(err, &e) {
				t.Errorf("RawPage error = %v, want a decoding error, not *client.Error", err)
			}
			if _, err := c.AuditEvents(t.Context(), client.Request{}); err == nil && i != 1 && i != 4 {
				t.Errorf("AuditEvents of %q succeeded, want an error", body)
			}
		})
	}
}

func TestRequests(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	b.handler = reply(200, nil, `{"cursor":"c1","has_more":false,"items":[]}`)
	c, err := client.New(b.srv.URL+"/", "tok", client.WithAPIVersion(1), client.WithUserAgent("ua/1"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("EST", -5*3600))
	if _, err := c.SignInAttempts(t.Context(), client.FromReset(client.Since(start, 50))); err != nil {
		t.Fatal(err)
	}
	end := start.Add(time.Hour)
	if _, err := c.ItemUsages(t.Context(), client.FromReset(events.ResetCursor{StartTime: &start, EndTime: &end})); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuditEvents(t.Context(), client.Request{Cursor: "c0", Reset: events.ResetCursor{Limit: 5}}); err != nil {
		t.Fatal(err)
	}
	want := []recorded{
		{"POST", "/api/v1/signinattempts", "application/json", "Bearer tok", map[string]any{"limit": 50.0, "start_time": "2025-03-01T15:00:00Z"}},
		{"POST", "/api/v1/itemusages", "application/json", "Bearer tok", map[string]any{"start_time": "2025-03-01T15:00:00Z", "end_time": "2025-03-01T16:00:00Z"}},
		{"POST", "/api/v1/auditevents", "application/json", "Bearer tok", map[string]any{"cursor": "c0"}},
	}
	if diff := cmp.Diff(want, b.requests()); diff != "" {
		t.Errorf("requests mismatch (-want +got):\n%s", diff)
	}
}

func TestIntrospect(t *testing.T) {
	t.Parallel()
	issued := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, v := range []int{1, 2} {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			t.Parallel()
			b := setup(t, false)
			b.handler = func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
				switch r.URL.Path {
				case "/api/auth/introspect":
					io.WriteString(w, `{"UUID":"INT1","IssuedAt":"2024-01-02T03:04:05Z","Features":["auditevents","signinattempts"]}`)
				case "/api/v2/auth/introspect":
					io.WriteString(w, `{"uuid":"INT1","issued_at":"2024-01-02T03:04:05Z","features":["auditevents","signinattempts"],"account_uuid":"ACC"}`)
				default:
					http.NotFound(w, r)
				}
			}
			c, _ := client.New(b.srv.URL, "tok", client.WithAPIVersion(v))
			got, err := c.Introspect(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			want := events.Introspection{UUID: "INT1", IssuedAt: issued, Features: []events.Feature{events.AuditEvents, events.SignInAttempts}}
			if v == 2 {
				want.AccountUUID = "ACC"
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Introspect mismatch (-want +got):\n%s", diff)
			}
			if r := b.requests()[0]; r.Method != "GET" || r.ContentType != "" {
				t.Errorf("introspect sent %s with Content-Type %q, want GET without one", r.Method, r.ContentType)
			}
		})
	}
}

// pager serves n audit events in pages of size, following the protocol:
// the cursor is the next index, has_more is true while events remain, and
// the end of the stream echoes the request's cursor.
func pager(t *testing.T, n, size int) func(http.ResponseWriter, *http.Request, map[string]any) {
	return func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		from := 0
		if c, ok := body["cursor"].(string); ok {
			fmt.Sscan(c, &from)
		}
		to := min(from+size, n)
		var items []string
		for i := from; i < to; i++ {
			items = append(items, fmt.Sprintf(`{"uuid":"E%03d","timestamp":"2025-01-01T00:00:%02dZ","action":"join","object_type":"user"}`, i, i%60))
		}
		fmt.Fprintf(w, `{"cursor":"%d","has_more":%v,"items":[%s]}`, to, to < n, strings.Join(items, ","))
	}
}

func TestAuditEventsSeq(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	b.handler = pager(t, 25, 10)
	c, _ := client.New(b.srv.URL, "tok")
	var got []string
	for ev, err := range c.AuditEventsSeq(t.Context(), events.ResetCursor{Limit: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.UUID)
	}
	if len(got) != 25 || got[0] != "E000" || got[24] != "E024" {
		t.Errorf("got %d events %v, want E000..E024", len(got), got)
	}
	if n := len(b.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}

	// Breaking early stops fetching.
	before := len(b.requests())
	for range c.AuditEventsSeq(t.Context(), events.ResetCursor{Limit: 10}) {
		break
	}
	if n := len(b.requests()) - before; n != 1 {
		t.Errorf("break after the first event made %d requests, want 1", n)
	}

	// An error is yielded once and ends the sequence.
	b.handler = reply(401, nil, `{"Error":{"Message":"Unauthorized"}}`)
	var errs int
	for _, err := range c.ItemUsagesSeq(t.Context(), events.ResetCursor{}) {
		var e *client.Error
		if !errors.As(err, &e) || e.StatusCode != 401 {
			t.Errorf("error = %v, want 401", err)
		}
		errs++
	}
	if errs != 1 {
		t.Errorf("%d errors yielded, want 1", errs)
	}
}

// TestRawPageKeepsBytes: RawPage hands back each item's bytes as sent, for
// the reference page (testdata, copied from the spec's XSOAR example) and
// for a small page with odd spacing and brackets inside strings.
func TestRawPageKeepsBytes(t *testing.T) {
	t.Parallel()
	reference, err := os.ReadFile("testdata/v2_auditevents_response_page1.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, page := range map[string][]byte{
		"reference": reference,
		"odd":       []byte(`{"cursor":"qwerty4567","has_more":true,"items":[{"uuid":"A", "timestamp" : "2024-12-02T11:54:19Z"} ,{"uuid":"B","x":[1,{"y":"]}"}]}]}`),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, false)
			b.handler = reply(200, nil, string(page))
			c, _ := client.New(b.srv.URL, "tok")
			got, err := c.RawPage(t.Context(), events.AuditEvents, client.Request{})
			if err != nil {
				t.Fatal(err)
			}
			var want events.RawPage
			if err := json.Unmarshal(page, &want); err != nil {
				t.Fatal(err)
			}
			if len(want.Items) == 0 {
				t.Fatal("fixture page has no items")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("RawPage mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRawPageInto: a buffer large enough is reused (the items alias it);
// a small one is replaced; chunked replies without Content-Length are
// read whole.
func TestRawPageInto(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	page := `{"cursor":"c1","has_more":false,"items":[{"uuid":"A","timestamp":"2024-12-02T11:54:19Z"},{"uuid":"B"}]}`
	chunked := false
	b.handler = func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if chunked {
			for i := 0; i < len(page); i += 7 {
				io.WriteString(w, page[i:min(i+7, len(page))])
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(page)))
		io.WriteString(w, page)
	}
	c, _ := client.New(b.srv.URL, "tok")
	want := events.RawPage{Cursor: "c1", Items: []json.RawMessage{json.RawMessage(`{"uuid":"A","timestamp":"2024-12-02T11:54:19Z"}`), json.RawMessage(`{"uuid":"B"}`)}}
	for _, tt := range []struct {
		name    string
		buf     []byte
		chunked bool
		reused  bool
	}{
		{"nil buffer", nil, false, false},
		{"large buffer reused", make([]byte, 0, 4096), false, true},
		{"small buffer replaced", make([]byte, 0, 8), false, false},
		{"chunked into a large buffer", make([]byte, 0, 4096), true, true},
		{"chunked into a small buffer", make([]byte, 1, 8), true, false},
	} {
		b.mu.Lock()
		chunked = tt.chunked
		b.mu.Unlock()
		got, used, err := c.RawPageInto(t.Context(), events.AuditEvents, client.Request{}, tt.buf)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: page (-want +got):\n%s", tt.name, diff)
		}
		if string(used) != page {
			t.Errorf("%s: buffer holds %q, want the reply", tt.name, used)
		}
		if reused := cap(tt.buf) > 0 && &used[:1][0] == &tt.buf[:1][0]; reused != tt.reused {
			t.Errorf("%s: buffer reused = %v, want %v", tt.name, reused, tt.reused)
		}
	}
}

func TestBaseURLFromAudience(t *testing.T) {
	t.Parallel()
	b := setup(t, true)
	b.handler = reply(200, nil, `{"uuid":"I","issued_at":"2024-01-02T03:04:05Z","features":["auditevents"]}`)
	host := strings.TrimPrefix(b.srv.URL, "https://")
	token := fakeToken([]string{host})

	// Without the test CA the TLS handshake fails.
	c, err := client.New("", token)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.BaseURL(), b.srv.URL; got != want {
		t.Errorf("BaseURL() = %q, want %q", got, want)
	}
	if _, err := c.Introspect(t.Context()); err == nil {
		t.Error("Introspect without the CA succeeded, want a certificate error")
	}

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, opt := range map[string]client.Option{
		"file": client.WithRootCAFile(caFile),
		"pool": client.WithRootCAs(b.srv.Certificate()),
	} {
		c, err := client.New("", token, opt, client.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Introspect(t.Context()); err != nil {
			t.Errorf("%s: Introspect = %v", name, err)
		}
	}
}

func TestProxy(t *testing.T) {
	t.Parallel()
	// A plain-HTTP proxy: it sees absolute-form requests and forwards them.
	var mu sync.Mutex
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.String())
		mu.Unlock()
		io.WriteString(w, `{"uuid":"I","issued_at":"2024-01-02T03:04:05Z","features":["auditevents"]}`)
	}))
	t.Cleanup(proxy.Close)
	c, err := client.New("http://events.example.invalid", "tok", client.WithProxy(proxy.URL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Introspect(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"http://events.example.invalid/api/v2/auth/introspect"}, seen); diff != "" {
		t.Errorf("proxy saw (-want +got):\n%s", diff)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	secret := "eyJhbGciOiJFUzI1NiJ9.bm90LWpzb24.sig"
	tests := []struct {
		name, base, token string
		opts              []client.Option
		want              string
	}{
		{"empty token", "https://x", "", nil, "empty token"},
		{"not a JWT", "", "abc", nil, "not a JWT"},
		{"payload not JSON", "", secret, nil, "not a JSON object"},
		{"no aud", "", fakeToken(nil), nil, "no aud"},
		{"empty aud", "", fakeToken([]string{}), nil, "empty aud"},
		{"bad scheme", "ftp://x", "t", nil, "want http(s)"},
		{"bad version", "https://x", "t", []client.Option{client.WithAPIVersion(4)}, "want 1, 2 or 3"},
		{"bad proxy", "https://x", "t", []client.Option{client.WithProxy("gopher://p:1")}, "scheme must be"},
		{"missing CA file", "https://x", "t", []client.Option{client.WithRootCAFile("/nonexistent/ca.pem")}, "root CA file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.New(tt.base, tt.token, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error = %v, want it to contain %q", err, tt.want)
			}
			if tt.token != "" && len(tt.token) > 5 && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
	if got, err := client.Audience(fakeToken("events.1password.eu")); err != nil || got != "events.1password.eu" {
		t.Errorf("Audience(string aud) = %q, %v", got, err)
	}
}

func TestContextCancel(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	release := make(chan struct{})
	b.handler = func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	defer close(release)
	c, _ := client.New(b.srv.URL, "tok")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.AuditEvents(ctx, client.Request{}); !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}
