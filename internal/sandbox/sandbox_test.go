package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/cli"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/ratelimit"
	"github.com/logbookhq/logbook/internal/roundtrip"
	"github.com/logbookhq/logbook/internal/sandbox"
	"github.com/logbookhq/logbook/internal/scorecard"
	"github.com/logbookhq/logbook/internal/servertest"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/testenv"
)

func newClock() *testenv.Clock { return testenv.NewClock(time.Now().UTC().Truncate(time.Second)) }

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"", "scenario: empty document"},
		{"name: x\n", "steps: is required"},
		{"steps:\n  - after_requests: 1\n", "steps[0]: has no verb"},
		{"steps:\n  - status_500: {}\n    status_429: {}\n", "steps[0]: has 2 verbs (status_429, status_500)"},
		{"steps:\n  - status_500: {count: -1}\n", "steps[0].status_500.count: must be at least 1"},
		{"steps:\n  - status_429: {retry_after: soon}\n", `steps[0].status_429.retry_after: "soon" is not a duration`},
		{"steps:\n  - slow: {count: 2}\n", "steps[0].slow.delay: is required"},
		{"steps:\n  - after: 5x\n    status_500: {}\n", `steps[0].after: "5x" is not a duration`},
		{"steps:\n  - after: 5s\n    after_requests: 2\n    status_500: {}\n", "steps[0]: has 2 triggers"},
		{"steps:\n  - status_500: {}\n  - burst: {events: 10}\n", "account: is required when a step adds events (steps[1].burst)"},
		{"account: A\nsteps:\n  - burst: {events: 0}\n", "steps[0].burst.events: must be between 1 and 1000000"},
		{"account: A\nsteps:\n  - burst: {events: 5, kind: logins}\n", "steps[0].burst.kind: unknown feature"},
		{"account: A\nsteps:\n  - late: {events: 5}\n", "steps[0].late.age: is required"},
		{"steps:\n  - status_500: {cout: 1}\n", "field cout not found"},
		{"steps: [\n", "scenario: yaml"},
	} {
		_, err := sandbox.Parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tc.yaml, err, tc.want)
		}
	}
}

// The examples shipped in examples/scenarios parse.
func TestExamplesParse(t *testing.T) {
	for _, name := range []string{"storm", "flaky", "revoked", "unicode-late", "empty-account"} {
		b, err := readExample(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sandbox.Parse(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

type bundle struct {
	srv   *servertest.Server
	clock *testenv.Clock
	sleep []time.Duration
	mu    sync.Mutex
}

func setup(t *testing.T) *bundle {
	b := &bundle{clock: newClock()}
	b.srv = servertest.Start(t, servertest.Options{Now: b.clock.Now, Sandbox: cli.SandboxOptions{
		Sleep: func(ctx context.Context, d time.Duration) {
			b.mu.Lock()
			b.sleep = append(b.sleep, d)
			b.mu.Unlock()
			// Wait for real, briefly, so the reply is really late.
			time.Sleep(min(d, 5*time.Millisecond))
		},
	}})
	return b
}

func (b *bundle) load(t *testing.T, yaml string) sandbox.Loaded {
	t.Helper()
	sc, err := sandbox.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	l, err := b.srv.Scenarios.Load(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

type resp struct {
	status int
	header http.Header
	page   events.RawPage
	body   []byte
	err    error
}

// post sends a reset (or a continuation when cursor is set) and reads the
// reply whole.
func (b *bundle) post(tok string, f events.Feature, cursor string) resp {
	body := `{"limit":1000,"start_time":"2000-01-01T00:00:00Z"}`
	if cursor != "" {
		body = `{"cursor":"` + cursor + `"}`
	}
	req, _ := http.NewRequest("POST", b.srv.URL+"/api/v2/"+string(f), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		return resp{err: err}
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	out := resp{status: r.StatusCode, header: r.Header, body: data, err: err}
	if err == nil && r.StatusCode == 200 {
		out.page, out.err = client.SplitPage(data)
	}
	return out
}

func (b *bundle) statuses(n int) []int {
	var out []int
	for i := 0; i < n; i++ {
		out = append(out, b.post(b.srv.Token, events.AuditEvents, "").status)
	}
	return out
}

func TestStatus429(t *testing.T) {
	b := setup(t)
	b.load(t, "steps:\n  - after_requests: 1\n    status_429: {count: 2, retry_after: 2500ms}\n")
	var got []int
	for i := 0; i < 4; i++ {
		r := b.post(b.srv.Token, events.AuditEvents, "")
		got = append(got, r.status)
		if r.status == 429 {
			if ra := r.header.Get("Retry-After"); ra != "3" || string(r.body) != `{"Error":{"Message":"Too Many Requests"}}` {
				t.Errorf("429 reply: Retry-After %q, body %s", ra, r.body)
			}
		}
	}
	if diff := cmp.Diff([]int{200, 429, 429, 200}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

func TestStatus500(t *testing.T) {
	b := setup(t)
	b.load(t, "steps:\n  - status_500: {count: 1}\n")
	r := b.post(b.srv.Token, events.AuditEvents, "")
	if r.status != 500 || string(r.body) != `{"Error":{"Message":"Internal Server Error"}}` {
		t.Errorf("got %d %s", r.status, r.body)
	}
	if got := b.statuses(1); got[0] != 200 {
		t.Errorf("after the fault: %v", got)
	}
}

func TestSlow(t *testing.T) {
	b := setup(t)
	b.load(t, "steps:\n  - after_requests: 1\n    slow: {count: 2, delay: 1500ms}\n")
	if diff := cmp.Diff([]int{200, 200, 200, 200}, b.statuses(4)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if diff := cmp.Diff([]time.Duration{1500 * time.Millisecond, 1500 * time.Millisecond}, b.sleep); diff != "" {
		t.Errorf("delays (-want +got):\n%s", diff)
	}
}

func TestTruncate(t *testing.T) {
	b := setup(t)
	b.srv.Append(t, &events.AuditEvent{UUID: events.NewID(), Timestamp: b.clock.Now().Add(-time.Minute), ActorUUID: events.NewID(), Action: "view", ObjectType: "report", ObjectUUID: events.Str("")})
	b.load(t, "steps:\n  - truncate: {bytes: 20}\n")
	r := b.post(b.srv.Token, events.AuditEvents, "")
	if r.err == nil || !errors.Is(r.err, io.ErrUnexpectedEOF) || len(r.body) != 20 || !bytes.HasPrefix(r.body, []byte(`{"cursor":"`)) {
		t.Errorf("truncated reply: status %d, %d bytes %q, err %v; want 20 bytes then an unexpected EOF", r.status, len(r.body), r.body, r.err)
	}
	// The client package reports it as an error, and the next request is whole.
	if r := b.post(b.srv.Token, events.AuditEvents, ""); r.err != nil || len(r.page.Items) != 1 {
		t.Errorf("next reply: %v, %d items", r.err, len(r.page.Items))
	}
}

func TestRevokeToken(t *testing.T) {
	b := setup(t)
	b.load(t, "steps:\n  - after_requests: 2\n    revoke_token: {}\n")
	if diff := cmp.Diff([]int{200, 200, 401, 401}, b.statuses(4)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	v, err := b.srv.Store.AccountTokens(context.Background(), b.srv.Account)
	if err != nil || len(v) != 1 || v[0].RevokedAt.IsZero() {
		t.Errorf("tokens %+v, %v; want the one token revoked", v, err)
	}
}

func TestRevokeAfterEvents(t *testing.T) {
	b := setup(t)
	b.load(t, "account: Test\nsteps:\n  - burst: {events: 30, kind: auditevents, seed: 3}\n  - after_events: 30\n    revoke_token: {}\n")
	r := b.post(b.srv.Token, events.AuditEvents, "")
	if r.status != 200 || len(r.page.Items) != 30 {
		t.Fatalf("first page: %d, %d items", r.status, len(r.page.Items))
	}
	if r := b.post(b.srv.Token, events.AuditEvents, r.page.Cursor); r.status != 401 {
		t.Errorf("after 30 events: status %d, want 401", r.status)
	}
}

func fetchAll(t *testing.T, b *bundle, tok string, f events.Feature) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	cursor := ""
	for {
		r := b.post(tok, f, cursor)
		if r.status != 200 || r.err != nil {
			t.Fatalf("%s: %d %v %s", f, r.status, r.err, r.body)
		}
		out = append(out, r.page.Items...)
		if !r.page.HasMore {
			return out
		}
		cursor = r.page.Cursor
	}
}

func TestBurst(t *testing.T) {
	b := setup(t)
	l := b.load(t, "account: Test\nsteps:\n  - burst: {events: 2500, seed: 1, spread: 24h}\n")
	if len(l.Fired) != 1 || l.Fired[0].Detail != "2500 events" {
		t.Errorf("fired %+v", l.Fired)
	}
	n := 0
	for _, f := range events.AllFeatures {
		evs := fetchAll(t, b, b.srv.Token, f)
		n += len(evs)
		for _, e := range evs {
			var head struct{ Timestamp time.Time }
			_ = json.Unmarshal(e, &head)
			if age := b.clock.Now().Sub(head.Timestamp); age < 0 || age > 24*time.Hour+time.Minute {
				t.Fatalf("%s event %s old, want within the 24h spread", f, age)
			}
		}
	}
	if n != 2500 {
		t.Errorf("served %d events, want 2500", n)
	}
}

// TestLate: a connector that has drained its stream still gets events
// that arrive now with timestamps hours old.
func TestLate(t *testing.T) {
	b := setup(t)
	b.srv.Append(t, &events.ItemUsage{UUID: events.NewID(), Timestamp: b.clock.Now().Add(-time.Minute), UsedVersion: 1,
		VaultUUID: events.NewLowerID(), ItemUUID: events.NewLowerID(), User: events.User{UUID: events.NewID(), Name: "A", Email: "a@example.com"},
		Client: events.Client{AppName: "1Password CLI", IPAddress: "192.0.2.1"}, Action: "fill"})
	first := b.post(b.srv.Token, events.ItemUsages, "")
	if first.page.HasMore || len(first.page.Items) != 1 {
		t.Fatalf("first page: %+v", first.page)
	}
	b.load(t, "account: Test\nsteps:\n  - after_requests: 0\n    late: {events: 40, kind: itemusages, age: 6h, spread: 6h}\n")
	next := b.post(b.srv.Token, events.ItemUsages, first.page.Cursor)
	if len(next.page.Items) != 40 {
		t.Fatalf("after the late events: %d items, want 40", len(next.page.Items))
	}
	for _, e := range next.page.Items {
		var head struct{ Timestamp time.Time }
		_ = json.Unmarshal(e, &head)
		if age := b.clock.Now().Sub(head.Timestamp); age < 6*time.Hour {
			t.Fatalf("late event only %s old", age)
		}
	}
}

func TestUnicode(t *testing.T) {
	b := setup(t)
	b.load(t, "account: Test\nsteps:\n  - unicode: {events: 5, kind: signinattempts}\n")
	evs := fetchAll(t, b, b.srv.Token, events.SignInAttempts)
	if len(evs) != 5 {
		t.Fatalf("%d events", len(evs))
	}
	for _, e := range evs {
		var si events.SignInAttempt
		if err := json.Unmarshal(e, &si); err != nil {
			t.Fatal(err)
		}
		name := si.TargetUser.Name
		if len(name) != ingest.MaxFieldLen || !utf8.ValidString(name) || utf8.RuneCountInString(name) >= len(name) || !strings.Contains(name, "🔐") {
			t.Errorf("name: %d bytes, %d runes; want %d bytes of multi-byte text", len(name), utf8.RuneCountInString(name), ingest.MaxFieldLen)
		}
	}
	// The same events pass ingestion: re-ingesting them finds duplicates only.
	raw, _ := json.Marshal(evs)
	wires, errs := ingest.DecodeAll(bytes.NewReader(raw), events.SignInAttempts)
	if len(errs) > 0 || len(wires) != 5 {
		t.Errorf("re-ingest: %v", errs)
	}
}

func TestEmptyAccount(t *testing.T) {
	b := setup(t)
	l := b.load(t, "name: empty\naccount: Fresh\nsteps:\n  - after_requests: 5\n    status_500: {}\n")
	if !l.AccountCreated || l.Token == "" {
		t.Fatalf("loaded %+v; want a new account and its token", l)
	}
	for _, f := range events.AllFeatures {
		r := b.post(l.Token, f, "")
		if r.status != 200 || r.page.HasMore || len(r.page.Items) != 0 || r.page.Cursor == "" {
			t.Errorf("%s: %d %s; want an empty page with a cursor", f, r.status, r.body)
		}
	}
	// The scenario applies to that account only.
	if got := b.statuses(8); got[6] != 200 {
		t.Errorf("other account's requests: %v", got)
	}
}

func TestTimeTrigger(t *testing.T) {
	b := setup(t)
	b.load(t, "steps:\n  - after: 10m\n    status_500: {count: 1}\n")
	if got := b.statuses(1); got[0] != 200 {
		t.Fatalf("before: %v", got)
	}
	b.clock.Advance(10 * time.Minute)
	if diff := cmp.Diff([]int{500, 200}, b.statuses(2)); diff != "" {
		t.Errorf("after 10m (-want +got):\n%s", diff)
	}
	st, ok := b.srv.Scenarios.Current()
	if !ok || st.Requests != 3 || len(st.Fired) != 1 || st.Fired[0].Verb != "status_500" {
		t.Errorf("status %+v", st)
	}
	if !b.srv.Scenarios.Clear() {
		t.Error("Clear found no scenario")
	}
}

// --- scorecards ---

func tokenID(t *testing.T, srv *servertest.Server, raw string) store.Token {
	v, err := srv.Tokens.Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	return v.Token
}

func (b *bundle) report(t *testing.T, tok store.Token) scorecard.Card {
	t.Helper()
	if err := b.srv.Scorecards.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	sc, err := scorecard.Report(context.Background(), b.srv.Store, tok, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func (b *bundle) seed(t *testing.T, n int) {
	evs := make([]any, n)
	for i := range evs {
		evs[i] = &events.AuditEvent{UUID: events.NewID(), Timestamp: b.clock.Now().Add(-time.Duration(n-i) * time.Second),
			ActorUUID: events.NewID(), Action: "view", ObjectType: "report", ObjectUUID: events.Str("")}
	}
	b.srv.Append(t, evs...)
}

// TestGoodClientScoresClean: the client package following has_more, and
// waiting between polls, delivers everything once.
func TestGoodClientScoresClean(t *testing.T) {
	b := setup(t)
	b.seed(t, 250)
	c, err := client.New(b.srv.URL, b.srv.Token)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	req := client.FromReset(events.ResetCursor{Limit: 100, StartTime: &start})
	for polls := 0; polls < 3; {
		p, err := c.RawPage(context.Background(), events.AuditEvents, req)
		if err != nil {
			t.Fatal(err)
		}
		req = client.FromCursor(p.Cursor)
		if !p.HasMore {
			polls++
			b.clock.Advance(10 * time.Second) // a well-behaved poll interval
		}
	}
	sc := b.report(t, tokenID(t, b.srv, b.srv.Token))
	want := scorecard.StreamScore{Feature: events.AuditEvents, Available: 250, Delivered: 250, Requests: 5}
	if diff := cmp.Diff(want, sc.Streams[0]); diff != "" {
		t.Errorf("auditevents (-want +got):\n%s", diff)
	}
	if !sc.Clean || len(sc.Problems) != 0 {
		t.Errorf("scorecard not clean: %+v", sc)
	}
}

func TestSpinningClientCaught(t *testing.T) {
	b := setup(t)
	b.seed(t, 10)
	r := b.post(b.srv.Token, events.AuditEvents, "")
	for i := 0; i < 5; i++ {
		b.clock.Advance(100 * time.Millisecond) // polls ten times a second
		r = b.post(b.srv.Token, events.AuditEvents, r.page.Cursor)
	}
	sc := b.report(t, tokenID(t, b.srv, b.srv.Token))
	if sc.Clean || sc.Spins != 5 || sc.Streams[0].Spins != 5 {
		t.Errorf("spins %d, clean %v; want 5 spins caught: %+v", sc.Spins, sc.Clean, sc)
	}
}

func TestReplaysCounted(t *testing.T) {
	b := setup(t)
	b.seed(t, 30)
	for i := 0; i < 3; i++ { // starts over from the beginning three times
		b.post(b.srv.Token, events.AuditEvents, "")
		b.clock.Advance(time.Minute)
	}
	sc := b.report(t, tokenID(t, b.srv, b.srv.Token))
	if s := sc.Streams[0]; s.Delivered != 30 || s.Replayed != 60 || sc.Clean {
		t.Errorf("stream %+v clean %v; want 30 delivered, 60 replayed", s, sc.Clean)
	}
}

func TestRetryAfterIgnoredCaught(t *testing.T) {
	for _, tc := range []struct {
		name              string
		wait              time.Duration
		honoured, ignored int64
	}{
		{"ignores", 200 * time.Millisecond, 0, 2},
		{"honours", 2 * time.Second, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t)
			b.load(t, "steps:\n  - status_429: {count: 2, retry_after: 2s}\n")
			for i := 0; i < 3; i++ {
				b.post(b.srv.Token, events.AuditEvents, "")
				b.clock.Advance(tc.wait)
			}
			sc := b.report(t, tokenID(t, b.srv, b.srv.Token))
			want := scorecard.TooManyRequests{Received: 2, RetryAfterHonored: tc.honoured, RetryAfterIgnored: tc.ignored}
			if diff := cmp.Diff(want, sc.TooMany); diff != "" {
				t.Errorf("429s (-want +got):\n%s", diff)
			}
			if sc.Clean != (tc.ignored == 0) {
				t.Errorf("clean = %v: %v", sc.Clean, sc.Problems)
			}
		})
	}
}

// TestScorecardPersists: numbers survive a restart (flushed on close) and
// keep adding up; replays are judged against the persisted high-water.
func TestScorecardPersists(t *testing.T) {
	b := setup(t)
	b.seed(t, 20)
	b.post(b.srv.Token, events.AuditEvents, "")
	srv := b.srv.Restart(t)
	b.srv = srv
	b.post(b.srv.Token, events.AuditEvents, "")
	sc := b.report(t, tokenID(t, srv, srv.Token))
	if s := sc.Streams[0]; s.Delivered != 20 || s.Replayed != 20 || s.Requests != 2 {
		t.Errorf("after restart: %+v; want 20 delivered, 20 replayed, 2 requests", s)
	}
}

func readExample(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("..", "..", "examples", "scenarios", name+".yaml"))
}

// TestAdminAPI: PUT, GET and DELETE /admin/api/v1/scenario and GET
// /tokens/{id}/scorecard over HTTP with an admin key.
func TestAdminAPI(t *testing.T) {
	b := setup(t)
	srv := b.srv
	key := srv.AdminKey(t)
	call := func(method, path, body string) (int, string) {
		code, data := roundtrip.Call(t, method, srv.URL+"/admin/api/v1"+path, key, body)
		return code, string(data)
	}
	if code, body := call("GET", "/scenario", ""); code != 404 {
		t.Errorf("GET with none loaded: %d %s", code, body)
	}
	if code, body := call("PUT", "/scenario", "steps:\n  - status_429: {count: 0}\n    slow: {delay: 1s}\n"); code != 400 || !strings.Contains(body, `"field": "steps[0]"`) {
		t.Errorf("PUT invalid: %d %s", code, body)
	}
	if code, body := call("PUT", "/scenario", "account: Other\nsteps:\n  - status_500: {}\n"); code != 400 || !strings.Contains(body, `"field": "account"`) {
		t.Errorf("PUT for another account: %d %s", code, body)
	}
	if code, body := call("PUT", "/scenario", "name: api\nsteps:\n  - status_500: {count: 1}\n"); code != 200 || !strings.Contains(body, `"name": "api"`) {
		t.Fatalf("PUT: %d %s", code, body)
	}
	if got := b.statuses(2); got[0] != 500 || got[1] != 200 {
		t.Errorf("after PUT: %v", got)
	}
	code, body := call("GET", "/scenario", "")
	var st sandbox.Status
	_ = json.Unmarshal([]byte(body), &st)
	if code != 200 || st.Requests != 2 || len(st.Fired) != 1 || st.Account != srv.Account {
		t.Errorf("GET: %d %s", code, body)
	}
	if code, body := call("DELETE", "/scenario", ""); code != 204 {
		t.Errorf("DELETE: %d %s", code, body)
	}
	if _, ok := srv.Scenarios.Current(); ok {
		t.Error("scenario still loaded after DELETE")
	}
	tok := tokenID(t, srv, srv.Token)
	code, body = call("GET", "/tokens/"+tok.ID+"/scorecard", "")
	var sc scorecard.Card
	_ = json.Unmarshal([]byte(body), &sc)
	if code != 200 || sc.TokenID != tok.ID || sc.Requests != 2 || sc.ServerErrors != 1 {
		t.Errorf("scorecard: %d %s", code, body)
	}
	if code, _ := call("GET", "/tokens/NOSUCHTOKEN/scorecard", ""); code != 404 {
		t.Errorf("unknown token's scorecard: %d", code)
	}
}

// TestRateLimitEndToEnd: serve's limiter answers the client package with a
// 429 it can read, and the scorecard counts it.
func TestRateLimitEndToEnd(t *testing.T) {
	clk := newClock()
	srv := servertest.Start(t, servertest.Options{Now: clk.Now, Sandbox: cli.SandboxOptions{
		RateLimits: []ratelimit.Limit{{N: 2, Per: time.Minute}, {N: 100, Per: time.Hour}}}})
	c, err := client.New(srv.URL, srv.Token)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	var retry time.Duration
	for i := 0; i < 3; i++ {
		_, err := c.RawPage(context.Background(), events.AuditEvents, client.FromReset(events.ResetCursor{}))
		var ce *client.Error
		switch {
		case err == nil:
			got = append(got, 200)
		case errors.As(err, &ce):
			got = append(got, ce.StatusCode)
			retry = ce.RetryAfter
		default:
			t.Fatal(err)
		}
	}
	wantRetry := clk.Now().Truncate(time.Minute).Add(time.Minute).Sub(clk.Now())
	wantRetry = (wantRetry + time.Second - 1).Truncate(time.Second)
	if diff := cmp.Diff([]int{200, 200, 429}, got); diff != "" || retry != max(wantRetry, time.Second) {
		t.Errorf("statuses (-want +got):\n%s\nRetry-After %s, want %s", diff, retry, wantRetry)
	}
	if err := srv.Scorecards.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	sc, err := scorecard.Report(context.Background(), srv.Store, tokenID(t, srv, srv.Token), time.Time{})
	if err != nil || sc.TooMany.Received != 1 {
		t.Errorf("scorecard 429s = %+v, %v; want 1", sc.TooMany, err)
	}
}
