package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/cli"
	"github.com/logbookhq/logbook/internal/ratelimit"
	"github.com/logbookhq/logbook/internal/servertest"
	"github.com/logbookhq/logbook/internal/testenv"
)

type v3Page struct {
	AuditEvents   []json.RawMessage `json:"audit_events"`
	NextPageToken *string           `json:"next_page_token"`
}

// v3 GETs /api/v3/auditevents with the query and decodes a 200.
func v3(t *testing.T, base, token, query string) v3Page {
	t.Helper()
	r := do(t, "GET", base+"/api/v3/auditevents?"+query, token, "")
	if r.status != 200 {
		t.Fatalf("v3 %s: status %d, body %s", query, r.status, r.body)
	}
	var p v3Page
	if err := json.Unmarshal(r.body, &p); err != nil || p.AuditEvents == nil {
		t.Fatalf("v3 %s: %v\n%s", query, err, r.body)
	}
	if p.NextPageToken != nil && *p.NextPageToken == "" {
		t.Fatalf("v3 %s: empty next_page_token", query)
	}
	return p
}

func uuidOf(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var id struct{ UUID string }
	if err := json.Unmarshal(raw, &id); err != nil || id.UUID == "" {
		t.Fatalf("no uuid in %s", raw)
	}
	return id.UUID
}

var pageTokenRE = regexp.MustCompile(`"next_page_token":"[A-Za-z0-9_-]+"`)

// appendAt appends each event on its own with the clock (the server's and
// its store's) at the event's timestamp, so that its insertion time is its
// timestamp, then sets the clock to now.
func appendAt(t *testing.T, srv *servertest.Server, clock *fixedClock, now time.Time, evs ...*events.AuditEvent) {
	t.Helper()
	for _, ev := range evs {
		clock.Set(ev.Timestamp)
		srv.Append(t, ev)
	}
	clock.Set(now)
}

// insertTime reads a v3 event's insert_time.
func insertTime(t *testing.T, raw json.RawMessage) time.Time {
	t.Helper()
	var ev struct {
		InsertTime time.Time `json:"insert_time"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil || ev.InsertTime.IsZero() {
		t.Fatalf("no insert_time in %s", raw)
	}
	return ev.InsertTime
}

func TestV3WireGolden(t *testing.T) {
	clock := &fixedClock{t: t0}
	srv := servertest.Start(t, servertest.Options{Now: clock.Now})
	appendAt(t, srv, clock, t0, audit(1, t0.Add(-10*time.Minute), srv.Account), audit(2, t0.Add(-5*time.Minute), srv.Account))

	r := do(t, "GET", srv.URL+"/api/v3/auditevents?max_page_size=1", srv.Token, "")
	if r.status != 200 || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("page: %d, Content-Type %q", r.status, r.header.Get("Content-Type"))
	}
	golden(t, "v3_auditevents_page.json", pageTokenRE.ReplaceAll(r.body, []byte(`"next_page_token":"<token>"`)), srv.Account, "<account>")
	r = do(t, "GET", srv.URL+"/api/v3/auditevents?start_time=2026-03-02T09:24:59Z", srv.Token, "")
	golden(t, "v3_auditevents_last.json", r.body, srv.Account, "<account>")
	r = do(t, "GET", srv.URL+"/api/v3/auditevents?start_time=2030-01-01T00:00:00Z", srv.Token, "")
	golden(t, "v3_auditevents_empty.json", r.body)
	for name, tc := range map[string]struct {
		token, query string
		status       int
	}{
		"v3_error_400.json": {srv.Token, "max_page_size=1001", 400},
		"v3_error_401.json": {"not-a-token", "", 401},
	} {
		r := do(t, "GET", srv.URL+"/api/v3/auditevents?"+tc.query, tc.token, "")
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d", name, r.status, tc.status)
		}
		golden(t, name, r.body)
	}
	if r := do(t, "POST", srv.URL+"/api/v3/auditevents", srv.Token, `{}`); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST on v3: %d, Allow %q", r.status, r.header.Get("Allow"))
	}
	for _, path := range []string{"/api/v3/signinattempts", "/api/v3/itemusages"} {
		if r := do(t, "GET", srv.URL+path, srv.Token, ""); r.status != 404 {
			t.Errorf("GET %s: %d, want 404 (the beta has audit events only)", path, r.status)
		}
	}
}

// TestV3Requests is the served side of every parameter rule: what each
// gives, and that each refusal is the Events API error body.
func TestV3Requests(t *testing.T) {
	clock := &fixedClock{t: t0}
	srv := servertest.Start(t, servertest.Options{Now: clock.Now})
	// Each event inserted at its timestamp: the time bounds below count
	// insertion times.
	var evs []*events.AuditEvent
	for i := range 30 {
		evs = append(evs, audit(i, t0.Add(-time.Duration(90-i)*time.Minute), srv.Account)) // 90..61 minutes ago
	}
	for i := 30; i < 40; i++ {
		evs = append(evs, audit(i, t0.Add(-time.Duration(40-i)*time.Minute), srv.Account)) // last 10 minutes
	}
	appendAt(t, srv, clock, t0, evs...)
	other := servertest.Start(t, servertest.Options{Now: clock.Now})
	other.Append(t, audit(100, t0.Add(-time.Minute), other.Account), audit(101, t0.Add(-time.Minute), other.Account))
	otherToken := *v3(t, other.URL, other.Token, "max_page_size=1").NextPageToken
	token := *v3(t, srv.URL, srv.Token, "max_page_size=2").NextPageToken
	cursor := page(t, do(t, "POST", srv.URL+"/api/v2/auditevents", srv.Token, `{"limit":2}`)).Cursor
	noAudit := srv.IssueToken(t, 0, events.SignInAttempts, events.ItemUsages)

	for _, tc := range []struct {
		name, token, query string
		status             int
		items              int // -1: don't check
		more               bool
	}{
		{name: "no query is the last hour", token: srv.Token, status: 200, items: 10},
		{name: "max_page_size 0 is the default", token: srv.Token, query: "max_page_size=0&start_time=2020-01-01T00:00:00Z", status: 200, items: 40},
		{name: "max_page_size 3", token: srv.Token, query: "max_page_size=3", status: 200, items: 3, more: true},
		{name: "page_size alias", token: srv.Token, query: "page_size=4", status: 200, items: 4, more: true},
		{name: "start_time far back is clamped", token: srv.Token, query: "max_page_size=1000&start_time=2020-01-01T00:00:00Z", status: 200, items: 40},
		{name: "start_time is exclusive", token: srv.Token, query: "start_time=2026-03-02T09:29:00Z", status: 200, items: 0},
		{name: "end_time is exclusive", token: srv.Token, query: "start_time=2026-03-02T08:00:00Z&end_time=2026-03-02T08:10:00Z", status: 200, items: 9},
		{name: "both exclusive", token: srv.Token, query: "start_time=2026-03-02T08:00:00Z&end_time=2026-03-02T08:02:00Z", status: 200, items: 1},
		{name: "end_time alone means the hour before it", token: srv.Token, query: "end_time=2026-03-02T08:25:00Z", status: 200, items: 25},
		{name: "future start is empty", token: srv.Token, query: "start_time=2030-01-01T00:00:00Z", status: 200, items: 0},
		{name: "unescaped offset", token: srv.Token, query: "start_time=2026-03-02T11:20:00+02:00", status: 200, items: 9},
		{name: "page_token continues", token: srv.Token, query: "page_token=" + token, status: 200, items: 2, more: true},
		{name: "next_page_token alias", token: srv.Token, query: "next_page_token=" + token, status: 200, items: 2, more: true},
		{name: "page_token with max_page_size", token: srv.Token, query: "page_token=" + token + "&max_page_size=5", status: 200, items: 5, more: true},
		{name: "unknown parameters ignored", token: srv.Token, query: "limit=1&cursor=x", status: 200, items: 10},

		{name: "max_page_size 1001", token: srv.Token, query: "max_page_size=1001", status: 400},
		{name: "max_page_size -1", token: srv.Token, query: "max_page_size=-1", status: 400},
		{name: "page_size 0", token: srv.Token, query: "page_size=0", status: 400},
		{name: "name and alias disagree", token: srv.Token, query: "page_size=2&max_page_size=3", status: 400},
		{name: "malformed time", token: srv.Token, query: "start_time=yesterday", status: 400},
		{name: "end before start", token: srv.Token, query: "start_time=2026-03-02T08:00:00Z&end_time=2026-03-02T07:00:00Z", status: 400},
		{name: "start_time with page_token", token: srv.Token, query: "page_token=" + token + "&start_time=2026-03-02T08:00:00Z", status: 400},
		{name: "end_time with page_token", token: srv.Token, query: "page_token=" + token + "&end_time=2026-03-02T08:00:00Z", status: 400},
		{name: "tampered page_token", token: srv.Token, query: "page_token=aGVsbG8hIGlzIGl0IG1lIHlvdSBhcmUgbG9va2luZyBmb3IK", status: 400},
		{name: "a v2 cursor as page_token", token: srv.Token, query: "page_token=" + cursor, status: 400},
		{name: "another account's page_token", token: srv.Token, query: "page_token=" + otherToken, status: 400},
		{name: "no token", status: 401},
		{name: "garbage token", token: "eyJhbGciOiJub25lIn0.e30.", status: 401},
		{name: "token without auditevents", token: noAudit, status: 401},
		{name: "another server's token", token: other.Token, status: 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "GET", srv.URL+"/api/v3/auditevents?"+tc.query, tc.token, "")
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d; body %s", r.status, tc.status, r.body)
			}
			if tc.status != 200 {
				if want := fmt.Sprintf(`{"Error":{"Message":%q}}`, http.StatusText(tc.status)); string(r.body) != want {
					t.Errorf("body = %s, want %s", r.body, want)
				}
				return
			}
			p := v3(t, srv.URL, tc.token, tc.query)
			if len(p.AuditEvents) != tc.items || (p.NextPageToken != nil) != tc.more {
				t.Errorf("%d events, next_page_token %v; want %d, %v", len(p.AuditEvents), p.NextPageToken != nil, tc.items, tc.more)
			}
		})
	}
	// And the other way round: a page token is no v2 cursor.
	if r := do(t, "POST", srv.URL+"/api/v2/auditevents", srv.Token, `{"cursor":"`+token+`"}`); r.status != 400 {
		t.Errorf("a page token as v2 cursor: status %d, want 400", r.status)
	}
	clock.Set(t0.Add(2 * time.Hour))
	if p := v3(t, srv.URL, srv.Token, "page_token="+url.QueryEscape(token)); len(p.AuditEvents) != 2 {
		t.Errorf("page token replayed later: %d events, want 2", len(p.AuditEvents))
	}
}

// TestV3LateArrival: an event that arrives behind an unfinished page token,
// with an older timestamp, is still delivered to that token, once; and a
// replayed token gives the same view.
func TestV3LateArrival(t *testing.T) {
	clock := &fixedClock{t: t0}
	srv := servertest.Start(t, servertest.Options{Now: clock.Now})
	appendAt(t, srv, clock, t0, audit(1, t0.Add(-10*time.Minute), srv.Account), audit(2, t0.Add(-5*time.Minute), srv.Account))
	p := v3(t, srv.URL, srv.Token, "max_page_size=1")
	if len(p.AuditEvents) != 1 || p.NextPageToken == nil {
		t.Fatalf("first page: %d events, token %v", len(p.AuditEvents), p.NextPageToken != nil)
	}
	late := audit(3, t0.Add(-30*time.Minute), srv.Account)
	srv.Append(t, late)
	seen := map[string]int{uuidOf(t, p.AuditEvents[0]): 1}
	tok := *p.NextPageToken
	for {
		p = v3(t, srv.URL, srv.Token, "page_token="+tok)
		for _, ev := range p.AuditEvents {
			seen[uuidOf(t, ev)]++
		}
		if p.NextPageToken == nil {
			break
		}
		tok = *p.NextPageToken
	}
	if len(seen) != 3 || seen[late.UUID] != 1 {
		t.Fatalf("after late arrival: %v", seen)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	if again := v3(t, srv.URL, srv.Token, "page_token="+tok); len(again.AuditEvents) != len(p.AuditEvents) {
		t.Errorf("replayed token: %d events, first time %d", len(again.AuditEvents), len(p.AuditEvents))
	}
}

// TestV3PollLateArrival is 1Password's documented polling (the beta
// reference): page through a window, then ask again with the last event's
// insert_time as start_time. An event stored after that poll with a
// timestamp older than every event seen is delivered by the next poll,
// exactly once: start_time and end_time bound the insertion time, and
// insert_time is when Logbook stored the event, not its timestamp. On both
// store backends.
func TestV3PollLateArrival(t *testing.T) {
	onBothStores(t, func(t *testing.T, db string) {
		clock := &fixedClock{t: t0}
		testV3PollLateArrival(t, clock, servertest.Start(t, servertest.Options{Now: clock.Now, DB: db}))
	})
}

// onBothStores runs f once on SQLite (db empty) and once on PostgreSQL
// (db the URL of a schema of its own), each as a subtest.
func onBothStores(t *testing.T, f func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, "") })
	t.Run("postgres", func(t *testing.T) { f(t, testenv.PostgresSchema(t)) })
}

func testV3PollLateArrival(t *testing.T, clock *fixedClock, srv *servertest.Server) {
	appendAt(t, srv, clock, t0, audit(1, t0.Add(-10*time.Minute), srv.Account), audit(2, t0.Add(-5*time.Minute), srv.Account))
	seen := map[string]int{}
	// poll reads from start_time to the end of the window, page by page,
	// and returns the insert_time of the last event (start if none).
	poll := func(start time.Time) time.Time {
		t.Helper()
		query := "max_page_size=1&start_time=" + url.QueryEscape(start.Format(time.RFC3339Nano))
		last := start
		for {
			p := v3(t, srv.URL, srv.Token, query)
			for _, ev := range p.AuditEvents {
				seen[uuidOf(t, ev)]++
				it := insertTime(t, ev)
				if !it.After(last) {
					t.Errorf("insert_time %v after %v: not increasing", it, last)
				}
				last = it
			}
			if p.NextPageToken == nil {
				return last
			}
			query = "page_token=" + url.QueryEscape(*p.NextPageToken)
		}
	}
	last := poll(t0.Add(-time.Hour))
	if len(seen) != 2 || !last.Equal(t0.Add(-5*time.Minute)) {
		t.Fatalf("first poll: %v, last insert_time %v", seen, last)
	}
	// Stored a minute later, with a timestamp before everything seen.
	clock.Set(t0.Add(time.Minute))
	late := audit(3, t0.Add(-30*time.Minute), srv.Account)
	srv.Append(t, late)
	// Stored at the same clock reading: still after the late one.
	next := audit(4, t0.Add(-20*time.Minute), srv.Account)
	srv.Append(t, next)
	clock.Set(t0.Add(2 * time.Minute))
	last = poll(last)
	if seen[late.UUID] != 1 || seen[next.UUID] != 1 {
		t.Fatalf("second poll: %v", seen)
	}
	if want := t0.Add(time.Minute + time.Nanosecond); !last.Equal(want) {
		t.Errorf("last insert_time %v, want %v (one nanosecond after the late event's)", last, want)
	}
	if again := poll(last); !again.Equal(last) || len(seen) != 4 {
		t.Errorf("third poll: last %v, seen %v; want nothing new", again, seen)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	// end_time bounds insertion too: the window before the late arrival
	// holds the first two events, not the late one, whatever its timestamp.
	p := v3(t, srv.URL, srv.Token, "start_time=2026-03-02T08:30:00Z&end_time="+url.QueryEscape(t0.Add(time.Minute).Format(time.RFC3339Nano)))
	if len(p.AuditEvents) != 2 {
		t.Errorf("window before the late arrival: %d events, want 2", len(p.AuditEvents))
	}
}

// TestV3PagingAcrossRestart pages through the demo's audit events with
// max_page_size 1, 7 and 1000, restarting the server mid-way, and finds
// exactly the events /api/v2/auditevents serves (same uuids), each once.
func TestV3PagingAcrossRestart(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Demo: true})
	ctx := context.Background()
	start := time.Now().Add(-200 * 24 * time.Hour)
	want := map[string]bool{}
	c := newClient(t, srv.URL, srv.Token)
	p, err := c.RawPage(ctx, events.AuditEvents, client.FromReset(events.ResetCursor{Limit: 1000, StartTime: &start}))
	for err == nil {
		for _, it := range p.Items {
			want[uuidOf(t, it)] = true
		}
		if !p.HasMore {
			break
		}
		p, err = c.RawPage(ctx, events.AuditEvents, client.FromCursor(p.Cursor))
	}
	if err != nil || len(want) == 0 {
		t.Fatalf("v2: %d events, %v", len(want), err)
	}
	for _, size := range []int{1000, 7, 1} {
		seen := map[string]int{}
		query := fmt.Sprintf("max_page_size=%d&start_time=%s", size, url.QueryEscape(start.Format(time.RFC3339Nano)))
		for pages := 1; ; pages++ {
			p := v3(t, srv.URL, srv.Token, query)
			if len(p.AuditEvents) > size {
				t.Fatalf("page of %d events with max_page_size %d", len(p.AuditEvents), size)
			}
			for _, ev := range p.AuditEvents {
				seen[uuidOf(t, ev)]++
			}
			if pages == 3 {
				srv = srv.Restart(t)
			}
			if p.NextPageToken == nil {
				break
			}
			query = "page_token=" + *p.NextPageToken
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("max_page_size %d: %s delivered %d times", size, id, n)
			}
			if !want[id] {
				t.Errorf("max_page_size %d: %s is not served by v2", size, id)
			}
		}
		if len(seen) != len(want) {
			t.Errorf("max_page_size %d: %d distinct events, v2 serves %d", size, len(seen), len(want))
		}
	}
}

// TestV3Shape: every event of a v3 page is the v2 event of the same uuid
// in the v3 shape, with its action from the mapping table.
func TestV3Shape(t *testing.T) {
	clock := &fixedClock{t: t0}
	srv := servertest.Start(t, servertest.Options{Now: clock.Now})
	ev := audit(1, t0.Add(-time.Minute), srv.Account)
	srv.Append(t, ev) // inserted at t0, the clock
	p := v3(t, srv.URL, srv.Token, "")
	if len(p.AuditEvents) != 1 {
		t.Fatalf("%d events", len(p.AuditEvents))
	}
	v := ev.V3(t0)
	want, err := v.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(p.AuditEvents[0]) != string(want) || !strings.Contains(string(want), `"action":"vault.create"`) {
		t.Errorf("got  %s\nwant %s", p.AuditEvents[0], want)
	}
}

// TestV3RateLimit: v3 replies carry RateLimit-Limit, -Remaining and -Reset,
// and the request over the account's limit gets 429 with Retry-After and
// the Events API error body (docs/v3.md, "Response").
func TestV3RateLimit(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Sandbox: cli.SandboxOptions{RateLimits: []ratelimit.Limit{{N: 2, Per: time.Hour}}}})
	for i, want := range []string{"1", "0"} {
		r := do(t, "GET", srv.URL+"/api/v3/auditevents", srv.Token, "")
		if r.status != 200 || r.header.Get("RateLimit-Limit") != "2" || r.header.Get("RateLimit-Remaining") != want || r.header.Get("RateLimit-Reset") == "" {
			t.Fatalf("request %d: %d, headers %v", i, r.status, r.header)
		}
		if r.header.Get("Retry-After") != "" {
			t.Errorf("request %d: Retry-After on a 200", i)
		}
	}
	r := do(t, "GET", srv.URL+"/api/v3/auditevents", srv.Token, "")
	if r.status != 429 || r.header.Get("Retry-After") == "" || r.header.Get("RateLimit-Remaining") != "0" || string(r.body) != `{"Error":{"Message":"Too Many Requests"}}` {
		t.Errorf("over the limit: %d %s, headers %v", r.status, r.body, r.header)
	}
}
