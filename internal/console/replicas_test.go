package console_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logbookhq/logbook/internal/console"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/testenv"
)

var savedSecret = regexp.MustCompile(`<textarea id="token"[^>]*>([^<]+)</textarea>`)

// issue issues a token for integration on c's server and returns the path
// of its save page.
func issue(t *testing.T, c *browserless, integration, name string) string {
	t.Helper()
	c.get("/console/integrations/" + integration + "/tokens/new")
	r := c.post("/console/integrations/"+integration+"/tokens", url.Values{"name": {name}, "expires": {"30d"},
		"features": {"auditevents"}})
	if r.status != http.StatusSeeOther || !tokenPath.MatchString(r.header.Get("Location")) {
		t.Fatalf("issue token = %d to %q, want 303 to its save page; body:\n%s", r.status, r.header.Get("Location"), r.body)
	}
	return r.header.Get("Location")
}

// ownToken signs email in and issues a token named name on the bundle's
// own integration: the browser, the integration's page and the token's ID.
func (b *testBundle) ownToken(t *testing.T, email, name string) (c *browserless, base, id string) {
	t.Helper()
	c = b.signedIn(t, email)
	m := tokenPath.FindStringSubmatch(issue(t, c, b.mine, name))
	return c, "/console/integrations/" + b.mine, m[2]
}

// TestSessionSurvivesRestart: a console restarted on the same SQLite file
// keeps a signed-in browser signed in, and the secret of a token issued
// before the restart is still shown once and downloaded once. The
// database holds neither the cookie value nor the secret in clear.
func TestSessionSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	st1, err := sqlite.Open(ctx, filepath.Join(dir, "logbook.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := seed(t, st1)
	srv1 := b.serve(t, st1, nil)
	b.srv = srv1
	c := b.signedIn(t, "owner@acme.test")
	saved := issue(t, c, b.mine, "before-restart")

	srv1.Close()
	if err := st1.Close(); err != nil {
		t.Fatal(err)
	}
	st2 := sqlitetest.Open(t, filepath.Join(dir, "logbook.db"))
	c.base = b.serve(t, st2, nil).URL

	if r := c.get("/console/integrations"); r.status != http.StatusOK || !strings.Contains(r.body, "Acme Splunk") {
		t.Fatalf("integrations after restart = %d, want 200 listing Acme Splunk (still signed in)", r.status)
	}
	r := c.get(saved)
	m := savedSecret.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("save page after restart shows no token (%d):\n%s", r.status, r.body)
	}
	secret := m[1]
	if again := c.get(saved); strings.Contains(again.body, secret) || !strings.Contains(again.body, "already been shown") {
		t.Errorf("save page shown twice across a restart")
	}

	// Neither the cookie value nor the (sealed, not yet downloaded) secret
	// is anywhere in the database's files.
	u, _ := url.Parse(c.base + "/console/integrations")
	var cookie string
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == "logbook_console" {
			cookie = ck.Value
		}
	}
	if cookie == "" {
		t.Fatal("no session cookie in the jar")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "logbook.db*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("%s holds the token secret in clear", filepath.Base(f))
		}
		if bytes.Contains(data, []byte(cookie)) {
			t.Errorf("%s holds the session cookie value", filepath.Base(f))
		}
	}

	download := strings.TrimSuffix(saved, "/saved") + "/download"
	if d := c.get(download); d.status != http.StatusOK || d.body != secret+"\n" {
		t.Errorf("download after restart = %d %q, want 200 with the secret shown", d.status, d.body)
	}
	if d := c.get(download); d.status != http.StatusGone {
		t.Errorf("second download = %d, want 410", d.status)
	}
}

// twoServers starts two consoles, each with its own store handle on one
// PostgreSQL schema, as two replicas behind a load balancer.
func twoServers(t *testing.T) (b *testBundle, urlA, urlB string, stB store.Store) {
	t.Helper()
	dsn := testenv.PostgresSchema(t)
	// The stores purge counters and stamp appends by their clock: give
	// them the bundle's, once seed (which appends audit events) made it.
	now := func() time.Time {
		if b == nil {
			return time.Now()
		}
		return b.clock.Now()
	}
	open := func() store.Store {
		st, err := postgres.Open(t.Context(), dsn, postgres.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	stA, stB := open(), open()
	b = seed(t, stA)
	b.srv = b.serve(t, stA, nil)
	return b, b.srv.URL, b.serve(t, stB, nil).URL, stB
}

// TestSessionAcrossServers: signed in on server A, a browser uses its
// session on B, issues a token there and reads its secret on A; the
// secret is shown once and downloaded once over both, even when the two
// servers are asked at the same moment; signing out on B ends the session
// on A.
func TestSessionAcrossServers(t *testing.T) {
	t.Parallel()
	b, urlA, urlB, stB := twoServers(t)
	c := b.signedIn(t, "owner@acme.test") // on A
	c.base = urlB
	if r := c.get("/console/integrations"); r.status != http.StatusOK || !strings.Contains(r.body, "Acme Splunk") {
		t.Fatalf("integrations on B = %d, want 200 (the session made on A)", r.status)
	}
	if n, err := console.OpenSessions(stB, b.clock.Now)(t.Context()); err != nil || n != 1 {
		t.Errorf("OpenSessions on B's store = %d, %v; want 1", n, err)
	}
	saved := issue(t, c, b.mine, "issued-on-b")

	c.base = urlA
	r := c.get(saved)
	m := savedSecret.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("save page on A shows no token (%d):\n%s", r.status, r.body)
	}
	c.base = urlB
	if again := c.get(saved); strings.Contains(again.body, m[1]) || !strings.Contains(again.body, "already been shown") {
		t.Errorf("save page on B after A showed it = shows the secret again, want \"already been shown\"")
	}
	download := strings.TrimSuffix(saved, "/saved") + "/download"
	if d := c.get(download); d.status != http.StatusOK || d.body != m[1]+"\n" {
		t.Errorf("download on B = %d, want 200 with the secret A showed", d.status)
	}
	c.base = urlA
	if d := c.get(download); d.status != http.StatusGone {
		t.Errorf("download on A after B = %d, want 410", d.status)
	}

	// Both servers asked for the save page at once: one shows it.
	saved = issue(t, c, b.mine, "raced")
	var wg sync.WaitGroup
	shown := make(chan bool, 2)
	for _, base := range []string{urlA, urlB} {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", base+saved, nil)
			resp, err := c.c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body)
			shown <- savedSecret.Match(buf.Bytes())
		})
	}
	wg.Wait()
	close(shown)
	n := 0
	for s := range shown {
		if s {
			n++
		}
	}
	if n != 1 {
		t.Errorf("save page asked on A and B at once showed the secret %d times, want 1", n)
	}

	c.base = urlB
	u, _ := url.Parse(urlB + "/console/integrations")
	old := c.c.Jar.Cookies(u)
	if r := c.post("/console/signout", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("sign out on B = %d, want 303", r.status)
	}
	// The jar dropped the cookie; send the old one to A by hand.
	req, _ := http.NewRequest("GET", urlA+"/console/integrations", nil)
	for _, ck := range old {
		req.AddCookie(ck)
	}
	resp, err := (&http.Client{CheckRedirect: c.c.CheckRedirect}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(old) == 0 || resp.StatusCode != http.StatusSeeOther {
		t.Errorf("A with the cookie signed out on B = %d (%d cookies sent), want 303 to sign-in", resp.StatusCode, len(old))
	}
	if n, err := console.OpenSessions(stB, b.clock.Now)(t.Context()); err != nil || n != 0 {
		t.Errorf("OpenSessions after sign-out = %d, %v; want 0", n, err)
	}
}

// TestSignInLimitAcrossServers: failed sign-ins counted on two servers
// on one PostgreSQL share one limit.
func TestSignInLimitAcrossServers(t *testing.T) {
	t.Parallel()
	b, urlA, urlB, _ := twoServers(t)
	c := b.client(t)
	for i := range console.MaxSignInFailures {
		c.base = []string{urlA, urlB}[i%2]
		if r := c.signIn("owner@acme.test", "wrong"); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d on %s = %d, want 401", i+1, c.base, r.status)
		}
	}
	for _, base := range []string{urlA, urlB} {
		c.base = base
		r := c.signIn("owner@acme.test", password)
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Errorf("sign-in on %s after %d failures over both = %d (Retry-After %q), want 429 with Retry-After",
				base, console.MaxSignInFailures, r.status, r.header.Get("Retry-After"))
		}
	}
}

// sessionOf returns the stored session of c's cookie.
func sessionOf(t *testing.T, b *testBundle, c *browserless) store.Session {
	t.Helper()
	u, _ := url.Parse(c.base + "/console/integrations")
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == "logbook_console" {
			sum := sha256.Sum256([]byte(ck.Value))
			s, err := b.st.Session(t.Context(), sum[:])
			if err != nil {
				t.Fatalf("stored session: %v", err)
			}
			return s
		}
	}
	t.Fatal("no session cookie in the jar")
	return store.Session{}
}

// TestSessionRefresh: requests write the session's last use only when it
// is over console.SessionRefresh old, and each write slides the idle expiry;
// the absolute expiry holds however active the session is.
func TestSessionRefresh(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "owner@acme.test")
	signedIn := b.clock.Now()
	s := sessionOf(t, b, c)
	if !s.LastSeenAt.Equal(signedIn) || !s.ExpiresAt.Equal(signedIn.Add(console.SessionIdle)) {
		t.Fatalf("new session: last seen %v, expires %v; want %v, %v", s.LastSeenAt, s.ExpiresAt, signedIn, signedIn.Add(console.SessionIdle))
	}
	b.clock.Advance(console.SessionRefresh)
	c.get("/console/integrations")
	if got := sessionOf(t, b, c); !got.LastSeenAt.Equal(signedIn) {
		t.Errorf("a request %v after the last write wrote last seen %v, want no write", console.SessionRefresh, got.LastSeenAt)
	}
	b.clock.Advance(time.Second)
	c.get("/console/integrations")
	now := b.clock.Now()
	if got := sessionOf(t, b, c); !got.LastSeenAt.Equal(now) || !got.ExpiresAt.Equal(now.Add(console.SessionIdle)) {
		t.Errorf("a request %v after the last write: last seen %v, expires %v; want %v, %v",
			console.SessionRefresh+time.Second, got.LastSeenAt, got.ExpiresAt, now, now.Add(console.SessionIdle))
	}
	// Active every 20 minutes, the session still ends SessionMax after
	// sign-in.
	for b.clock.Now().Before(signedIn.Add(console.SessionMax - 20*time.Minute)) {
		b.clock.Advance(20 * time.Minute)
		if r := c.get("/console/integrations"); r.status != http.StatusOK {
			t.Fatalf("active session at %v after sign-in = %d, want 200", b.clock.Now().Sub(signedIn), r.status)
		}
	}
	if got := sessionOf(t, b, c); !got.ExpiresAt.Equal(signedIn.Add(console.SessionMax)) {
		t.Errorf("expiry near the end = %v, want the absolute %v", got.ExpiresAt, signedIn.Add(console.SessionMax))
	}
	b.clock.Advance(signedIn.Add(console.SessionMax).Sub(b.clock.Now()))
	if r := c.get("/console/integrations"); r.status != http.StatusSeeOther {
		t.Errorf("at the absolute expiry = %d, want 303 to sign-in", r.status)
	}
	if n, err := console.OpenSessions(b.st, b.clock.Now)(t.Context()); err != nil || n != 0 {
		t.Errorf("OpenSessions after expiry = %d, %v; want 0", n, err)
	}
}
