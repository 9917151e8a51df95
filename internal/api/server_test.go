package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/roundtrip"
	"github.com/logbookhq/logbook/internal/servertest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixedClock is a settable clock for servers under test.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fixedClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// signIn makes a deterministic sign-in attempt n at t.
func signIn(n int, t time.Time) *events.SignInAttempt {
	return &events.SignInAttempt{
		UUID: fmt.Sprintf("SI%024d", n), SessionUUID: fmt.Sprintf("SE%024d", n), Timestamp: t,
		Country: "CA", Category: "success", Type: "credentials_ok",
		TargetUser: events.User{UUID: "OJQGU46KAPROEJLCK674RHSAY5", Name: "Wendy Appleseed", Email: "wendy@example.com"},
		Client: events.Client{AppName: "1Password for Web", AppVersion: "1817", PlatformName: "Chrome", PlatformVersion: "127.0.6533.99",
			OSName: "Linux", OSVersion: "6.10.5", IPAddress: "192.0.2.10"},
		Location: &events.Location{Country: "Canada", Region: "Ontario", City: "Toronto", Latitude: 43.64, Longitude: -79.433},
	}
}

func audit(n int, t time.Time, account string) *events.AuditEvent {
	return &events.AuditEvent{
		UUID: fmt.Sprintf("AU%024d", n), Timestamp: t, ActorUUID: "OJQGU46KAPROEJLCK674RHSAY5",
		ActorDetails: &events.User{UUID: "OJQGU46KAPROEJLCK674RHSAY5", Name: "Wendy Appleseed", Email: "wendy@example.com"},
		Action:       "create", ObjectType: "vault", ObjectUUID: events.Str("jaqxqf5qylslqiitnduawrndc5"),
		Session:   &events.Session{UUID: "A5K6COGVRVEJXJW3XQZGS7VAMM", LoginTime: t.Add(-time.Minute), DeviceUUID: "lc5fqgbrcm4plajd8mwncv2b3u", IP: "192.0.2.10"},
		Location:  &events.Location{Country: "Canada", Region: "Ontario", City: "Toronto", Latitude: 43.64, Longitude: -79.433},
		ActorType: "user", AccountUUID: account,
	}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, url, token, body string, hdr ...string) reply {
	t.Helper()
	req := roundtrip.New(t, method, url, token, body)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, b := roundtrip.Do(t, nil, req)
	return reply{res.StatusCode, res.Header, b}
}

type envelope struct {
	Cursor  string            `json:"cursor"`
	HasMore bool              `json:"has_more"`
	Items   []json.RawMessage `json:"items"`
}

func page(t *testing.T, r reply) envelope {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	var e envelope
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("decode page: %v\n%s", err, r.body)
	}
	if e.Items == nil {
		t.Fatalf("items is null or missing: %s", r.body)
	}
	return e
}

var cursorRE = regexp.MustCompile(`"cursor":"[A-Za-z0-9_-]+"`)

// golden compares got with testdata/name, rewriting it with -update. Cursors
// are sealed with a per-database key, so they are masked.
func golden(t *testing.T, name string, got []byte, mask ...string) {
	t.Helper()
	got = cursorRE.ReplaceAll(got, []byte(`"cursor":"<cursor>"`))
	for i := 0; i+1 < len(mask); i += 2 {
		got = bytes.ReplaceAll(got, []byte(mask[i]), []byte(mask[i+1]))
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func TestWireGolden(t *testing.T) {
	clock := &fixedClock{t: t0}
	srv := servertest.Start(t, servertest.Options{Now: clock.Now})
	srv.Append(t, signIn(1, t0.Add(-30*time.Minute)), signIn(2, t0.Add(-20*time.Minute)))
	srv.Append(t, audit(1, t0.Add(-10*time.Minute), srv.Account))

	r := do(t, "POST", srv.URL+"/api/v1/signinattempts", srv.Token, `{"limit":1}`)
	golden(t, "v1_signinattempts_page1.json", r.body)
	if got := r.header.Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	r = do(t, "POST", srv.URL+"/api/v2/auditevents", srv.Token, `{}`)
	golden(t, "v2_auditevents_page.json", r.body, srv.Account, "<account>")
	r = do(t, "POST", srv.URL+"/api/v1/auditevents", srv.Token, `{}`)
	golden(t, "v1_auditevents_page.json", r.body)
	r = do(t, "POST", srv.URL+"/api/v2/itemusages", srv.Token, ``)
	golden(t, "v2_itemusages_empty.json", r.body)

	for name, tc := range map[string]struct {
		method, path, token, body string
		status                    int
	}{
		"error_400.json": {"POST", "/api/v2/signinattempts", srv.Token, `{"limit":1001}`, 400},
		"error_401.json": {"POST", "/api/v2/signinattempts", "not-a-token", `{}`, 401},
	} {
		r := do(t, tc.method, srv.URL+tc.path, tc.token, tc.body)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d", name, r.status, tc.status)
		}
		golden(t, name, r.body)
	}
	r = do(t, "POST", srv.URL+"/api/v3/nothing", srv.Token, `{}`)
	if r.status != 404 || string(r.body) != "404 page not found\n" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("unknown path: %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
	}
}

func TestIntrospection(t *testing.T) {
	clock := &fixedClock{t: t0}
	srv := servertest.Start(t, servertest.Options{Now: clock.Now})
	tok := srv.IssueToken(t, 0, events.ItemUsages, events.SignInAttempts)

	r := do(t, "GET", srv.URL+"/api/auth/introspect", tok, "")
	want := fmt.Sprintf(`{"UUID":%q,"IssuedAt":"2026-03-02T09:30:00Z","Features":["itemusages","signinattempts"]}`, srv.Integration)
	if r.status != 200 || string(r.body) != want {
		t.Errorf("v1 introspect = %d %s\nwant %s", r.status, r.body, want)
	}
	r = do(t, "GET", srv.URL+"/api/v2/auth/introspect", tok, "")
	want = fmt.Sprintf(`{"uuid":%q,"issued_at":"2026-03-02T09:30:00Z","features":["itemusages","signinattempts"],"account_uuid":%q}`, srv.Integration, srv.Account)
	if r.status != 200 || string(r.body) != want {
		t.Errorf("v2 introspect = %d %s\nwant %s", r.status, r.body, want)
	}
	if r := do(t, "GET", srv.URL+"/api/v2/auth/introspect", "", ""); r.status != 401 {
		t.Errorf("introspect without token = %d, want 401", r.status)
	}
}

func TestRequests(t *testing.T) {
	clock := &fixedClock{t: t0}
	srv := servertest.Start(t, servertest.Options{Now: clock.Now})
	var evs []any
	for i := range 30 {
		evs = append(evs, signIn(i, t0.Add(-time.Duration(90-i)*time.Minute))) // 90..61 minutes ago
	}
	for i := 30; i < 40; i++ {
		evs = append(evs, signIn(i, t0.Add(-time.Duration(40-i)*time.Minute))) // last 10 minutes
	}
	srv.Append(t, evs...)
	other := servertest.Start(t, servertest.Options{Now: clock.Now})
	otherCursor := page(t, do(t, "POST", other.URL+"/api/v2/signinattempts", other.Token, `{}`)).Cursor
	auditCursor := page(t, do(t, "POST", srv.URL+"/api/v2/auditevents", srv.Token, `{}`)).Cursor
	onlyAudit := srv.IssueToken(t, 0, events.AuditEvents)
	expired := srv.IssueToken(t, time.Hour, events.SignInAttempts)

	url := srv.URL + "/api/v2/signinattempts"
	for _, tc := range []struct {
		name   string
		token  string
		body   string
		hdr    []string
		status int
		items  int // -1: don't check
		more   bool
	}{
		{name: "empty object is the last hour", token: srv.Token, body: `{}`, status: 200, items: 10},
		{name: "no body", token: srv.Token, body: ``, status: 200, items: 10},
		{name: "no content type", token: srv.Token, body: `{"limit":3}`, status: 200, items: 3, more: true},
		{name: "form content type (Sentinel)", token: srv.Token, body: `{"limit":3}`, hdr: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 200, items: 3, more: true},
		{name: "start_time far back is clamped", token: srv.Token, body: `{"limit":1000,"start_time":"2020-01-01T00:00:00Z"}`, status: 200, items: 40},
		{name: "end_time bounds", token: srv.Token, body: `{"start_time":"2026-03-02T08:00:00Z","end_time":"2026-03-02T08:10:00Z"}`, status: 200, items: 10},
		{name: "end_time alone means the hour before it", token: srv.Token, body: `{"end_time":"2026-03-02T08:25:00Z"}`, status: 200, items: 25},
		{name: "future start is empty", token: srv.Token, body: `{"start_time":"2030-01-01T00:00:00Z"}`, status: 200, items: 0},
		{name: "nulls", token: srv.Token, body: `{"limit":null,"start_time":null,"end_time":null,"cursor":null}`, status: 200, items: 10},
		{name: "unknown fields", token: srv.Token, body: `{"limit":2,"page_size":50}`, status: 200, items: 2, more: true},
		{name: "limit 1001", token: srv.Token, body: `{"limit":1001}`, status: 400},
		{name: "limit 0", token: srv.Token, body: `{"limit":0}`, status: 400},
		{name: "malformed JSON", token: srv.Token, body: `{"limit":`, status: 400},
		{name: "malformed time", token: srv.Token, body: `{"start_time":"yesterday"}`, status: 400},
		{name: "end before start", token: srv.Token, body: `{"start_time":"2026-03-02T08:00:00Z","end_time":"2026-03-02T07:00:00Z"}`, status: 400},
		{name: "body too large", token: srv.Token, body: `{"x":"` + strings.Repeat("a", 70000) + `"}`, status: 400},
		{name: "tampered cursor", token: srv.Token, body: `{"cursor":"aGVsbG8hIGlzIGl0IG1lIHlvdSBhcmUgbG9va2luZyBmb3IK"}`, status: 400},
		{name: "another account's cursor", token: srv.Token, body: `{"cursor":"` + otherCursor + `"}`, status: 400},
		{name: "another feature's cursor", token: srv.Token, body: `{"cursor":"` + auditCursor + `"}`, status: 400},
		{name: "no token", body: `{}`, status: 401},
		{name: "garbage token", token: "eyJhbGciOiJub25lIn0.e30.", body: `{}`, status: 401},
		{name: "token without the feature", token: onlyAudit, body: `{}`, status: 401},
		{name: "another server's token", token: other.Token, body: `{}`, status: 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "POST", url, tc.token, tc.body, tc.hdr...)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d; body %s", r.status, tc.status, r.body)
			}
			if tc.status != 200 {
				want := fmt.Sprintf(`{"Error":{"Message":%q}}`, http.StatusText(tc.status))
				if string(r.body) != want {
					t.Errorf("body = %s, want %s", r.body, want)
				}
				return
			}
			p := page(t, r)
			if len(p.Items) != tc.items || p.HasMore != tc.more {
				t.Errorf("items = %d, has_more = %v; want %d, %v", len(p.Items), p.HasMore, tc.items, tc.more)
			}
		})
	}

	clock.Set(t0.Add(2 * time.Hour))
	if r := do(t, "POST", url, expired, `{}`); r.status != 401 {
		t.Errorf("expired token: status %d, want 401", r.status)
	}
}

// TestCursorSemantics covers end of stream, replay, end_time through
// continuations, and the cursor keeping the reset's limit.
func TestCursorSemantics(t *testing.T) {
	clock := &fixedClock{t: t0}
	srv := servertest.Start(t, servertest.Options{Now: clock.Now})
	for i := range 5 {
		srv.Append(t, signIn(i, t0.Add(-time.Duration(50-i)*time.Minute)))
	}
	url := srv.URL + "/api/v1/signinattempts"
	p1 := page(t, do(t, "POST", url, srv.Token, `{"limit":2}`))
	if len(p1.Items) != 2 || !p1.HasMore {
		t.Fatalf("page 1: %d items, has_more %v", len(p1.Items), p1.HasMore)
	}
	p2 := page(t, do(t, "POST", url, srv.Token, `{"cursor":"`+p1.Cursor+`"}`))
	p3 := page(t, do(t, "POST", url, srv.Token, `{"cursor":"`+p2.Cursor+`"}`))
	if len(p2.Items) != 2 || !p2.HasMore || len(p3.Items) != 1 || p3.HasMore {
		t.Fatalf("pages 2, 3: %d/%v, %d/%v", len(p2.Items), p2.HasMore, len(p3.Items), p3.HasMore)
	}
	// The end: the same cursor comes back, has_more false, items [].
	end := do(t, "POST", url, srv.Token, `{"cursor":"`+p3.Cursor+`"}`)
	if want := `{"cursor":"` + p3.Cursor + `","has_more":false,"items":[]}`; string(end.body) != want {
		t.Errorf("end of stream = %s, want %s", end.body, want)
	}
	// Replaying an old cursor gives the same view.
	again := page(t, do(t, "POST", url, srv.Token, `{"cursor":"`+p1.Cursor+`"}`))
	if diff := cmp.Diff(p2, again); diff != "" {
		t.Errorf("replayed cursor differs (-first +replay):\n%s", diff)
	}
	// New events show up behind the drained cursor.
	srv.Append(t, signIn(10, t0.Add(-time.Minute)))
	next := page(t, do(t, "POST", url, srv.Token, `{"cursor":"`+p3.Cursor+`"}`))
	if len(next.Items) != 1 || next.HasMore || next.Cursor == p3.Cursor {
		t.Errorf("after append: %d items, has_more %v, cursor changed %v", len(next.Items), next.HasMore, next.Cursor != p3.Cursor)
	}

	// A reset with end_time stays bounded by it through continuations.
	b := page(t, do(t, "POST", url, srv.Token, `{"limit":1,"start_time":"2026-03-02T08:00:00Z","end_time":"2026-03-02T08:43:00Z"}`))
	n := len(b.Items)
	for b.HasMore {
		b = page(t, do(t, "POST", url, srv.Token, `{"cursor":"`+b.Cursor+`"}`))
		n += len(b.Items)
	}
	if n != 3 {
		t.Errorf("end-bounded stream gave %d events, want 3", n)
	}
	srv.Append(t, signIn(11, t0.Add(-55*time.Minute)), signIn(12, t0.Add(-5*time.Minute)))
	b = page(t, do(t, "POST", url, srv.Token, `{"cursor":"`+b.Cursor+`"}`))
	if len(b.Items) != 1 || !strings.Contains(string(b.Items[0]), fmt.Sprintf("SI%024d", 11)) {
		t.Errorf("end-bounded cursor after a late event: %s", b.Items)
	}
}

// TestLateArrival: an event that arrives after a cursor passed newer ones,
// with an older timestamp, is still delivered to that cursor, once.
func TestLateArrival(t *testing.T) {
	clock := &fixedClock{t: t0}
	srv := servertest.Start(t, servertest.Options{Now: clock.Now})
	srv.Append(t, signIn(1, t0.Add(-10*time.Minute)), signIn(2, t0.Add(-5*time.Minute)))
	c := newClient(t, srv.URL, srv.Token)
	ctx := context.Background()
	p, err := c.SignInAttempts(ctx, client.FromReset(events.ResetCursor{Limit: 100}))
	if err != nil || len(p.Items) != 2 {
		t.Fatalf("first page: %d items, %v", len(p.Items), err)
	}
	late := signIn(3, t0.Add(-30*time.Minute))
	srv.Append(t, late)
	p2, err := c.SignInAttempts(ctx, client.FromCursor(p.Cursor))
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Items) != 1 || p2.Items[0].UUID != late.UUID {
		t.Fatalf("after late arrival: %+v", p2.Items)
	}
	p3, err := c.SignInAttempts(ctx, client.FromCursor(p2.Cursor))
	if err != nil || len(p3.Items) != 0 || p3.HasMore || p3.Cursor != p2.Cursor {
		t.Fatalf("drained: %d items, has_more %v, same cursor %v, %v", len(p3.Items), p3.HasMore, p3.Cursor == p2.Cursor, err)
	}
}

// TestPagingAcrossRestart pages through the demo with our client at limits
// 1, 7 and 1000, restarting the server mid-way: every event exactly once,
// then the end-of-stream reply.
func TestPagingAcrossRestart(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Demo: true})
	ctx := context.Background()
	want := map[events.Feature]int{}
	for _, f := range events.AllFeatures {
		n := 0
		c := newClient(t, srv.URL, srv.Token)
		p, err := c.RawPage(ctx, f, client.FromReset(events.ResetCursor{Limit: 1000, StartTime: ptr(time.Now().Add(-200 * 24 * time.Hour))}))
		for err == nil {
			n += len(p.Items)
			if !p.HasMore {
				break
			}
			p, err = c.RawPage(ctx, f, client.FromCursor(p.Cursor))
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("demo has no %s", f)
		}
		want[f] = n
	}
	for _, limit := range []int{1000, 7, 1} {
		for _, f := range events.AllFeatures {
			if limit == 1 && want[f] > 3000 {
				continue // keep the run short; limit 7 covers the logic
			}
			seen := map[string]int{}
			c := newClient(t, srv.URL, srv.Token)
			p, err := c.RawPage(ctx, f, client.FromReset(events.ResetCursor{Limit: limit, StartTime: ptr(time.Now().Add(-200 * 24 * time.Hour))}))
			pages := 0
			for err == nil {
				for _, it := range p.Items {
					var id struct{ UUID string }
					_ = json.Unmarshal(it, &id)
					seen[id.UUID]++
				}
				if len(p.Items) > limit {
					t.Fatalf("page of %d items with limit %d", len(p.Items), limit)
				}
				pages++
				if pages == 3 {
					srv = srv.Restart(t)
					c = newClient(t, srv.URL, srv.Token)
				}
				if !p.HasMore {
					break
				}
				p, err = c.RawPage(ctx, f, client.FromCursor(p.Cursor))
			}
			if err != nil {
				t.Fatalf("%s limit %d: %v", f, limit, err)
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("%s limit %d: %s delivered %d times", f, limit, id, n)
				}
			}
			if len(seen) != want[f] {
				t.Errorf("%s limit %d: %d distinct events, want %d", f, limit, len(seen), want[f])
			}
			end, err := c.RawPage(ctx, f, client.FromCursor(p.Cursor))
			if err != nil || end.HasMore || len(end.Items) != 0 || end.Cursor != p.Cursor {
				t.Errorf("%s limit %d: end-of-stream reply = %+v, %v", f, limit, end, err)
			}
		}
	}
}

// TestConcurrentIngestWhilePaging: readers paging while writers append see
// every event exactly once.
func TestConcurrentIngestWhilePaging(t *testing.T) {
	clock := &fixedClock{t: t0}
	srv := servertest.Start(t, servertest.Options{Now: clock.Now})
	const writers, perWriter, batch = 4, 500, 25
	ctx := context.Background()
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i += batch {
				var evs []any
				for j := i; j < i+batch; j++ {
					evs = append(evs, signIn(w*perWriter+j, t0.Add(-time.Duration(j%50)*time.Minute)))
				}
				srv.Append(t, evs...)
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	const readers = 3
	errs := make(chan error, readers)
	for r := range readers {
		go func() {
			c := newClient(t, srv.URL, srv.Token)
			seen := map[string]bool{}
			p, err := c.RawPage(ctx, events.SignInAttempts, client.FromReset(events.ResetCursor{Limit: 10 + r*40}))
			finished := false
			for err == nil {
				for _, it := range p.Items {
					var id struct{ UUID string }
					_ = json.Unmarshal(it, &id)
					if seen[id.UUID] {
						errs <- fmt.Errorf("reader %d: %s twice", r, id.UUID)
						return
					}
					seen[id.UUID] = true
				}
				if !p.HasMore {
					if finished {
						break
					}
					select {
					case <-done:
						finished = true // one more read after the writers stopped
					default:
					}
				}
				p, err = c.RawPage(ctx, events.SignInAttempts, client.FromCursor(p.Cursor))
			}
			if err == nil && len(seen) != writers*perWriter {
				err = fmt.Errorf("reader %d saw %d events, want %d", r, len(seen), writers*perWriter)
			}
			errs <- err
		}()
	}
	for range readers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func newClient(t testing.TB, url, token string) *client.Client {
	t.Helper()
	c, err := client.New(url, token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
