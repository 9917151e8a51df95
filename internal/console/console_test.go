package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/console"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/testenv"
	"github.com/logbookhq/logbook/internal/token"
)

const password = "correct horse battery staple"

type testBundle struct {
	srv   *httptest.Server
	st    store.Store
	adm   *admin.Service
	clock *testenv.Clock
	// other is an integration of another account.
	other string
	// mine is an integration of the signed-in user's account.
	mine string
}

// setup starts a console on a real socket over a SQLite store with an
// account "Acme" (an owner, an administrator and a member, all with
// passwords, and one integration) and another account "Other" with an
// integration of its own.
func setup(t *testing.T) *testBundle {
	t.Helper()
	return setupWith(t, nil)
}

// setupWith is setup with hook called as each password check starts and
// ends (console.NewHandlerWithCheckHook); nil for none.
func setupWith(t *testing.T, hook func(start bool)) *testBundle {
	t.Helper()
	st := sqlitetest.New(t)
	b := seed(t, st)
	b.srv = b.serve(t, st, hook)
	return b
}

// seed fills st as setup describes and returns a bundle without a server.
func seed(t *testing.T, st store.Store) *testBundle {
	t.Helper()
	ctx := context.Background()
	clk := testenv.NewClock(time.Date(2026, 3, 2, 10, 0, 30, 0, time.UTC))
	tokens := token.New(st, "events.test", token.Config{Now: clk.Now})
	if err := tokens.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	adm := admin.New(st, tokens, admin.Config{Now: clk.Now})
	b := &testBundle{st: st, adm: adm, clock: clk}
	acct, _, err := adm.CreateAccount(ctx, "Acme", admin.NewUser{Email: "owner@acme.test", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	owner := actorAs(t, adm, acct.UUID, "")
	for _, u := range []admin.NewUser{
		{Email: "admin@acme.test", Role: store.RoleAdmin, Password: password},
		{Email: "member@acme.test", Role: store.RoleMember, Password: password},
	} {
		if _, err := adm.AddUser(ctx, owner, u); err != nil {
			t.Fatal(err)
		}
	}
	in, err := adm.CreateIntegration(ctx, owner, "Acme Splunk", "Splunk")
	if err != nil {
		t.Fatal(err)
	}
	b.mine = in.UUID
	oacct, _, err := adm.CreateAccount(ctx, "Other", admin.NewUser{Email: "owner@other.test", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	oowner := actorAs(t, adm, oacct.UUID, "")
	oin, err := adm.CreateIntegration(ctx, oowner, "Other SIEM", "Other")
	if err != nil {
		t.Fatal(err)
	}
	b.other = oin.UUID
	return b
}

// serve starts a console over st (a handle on the bundle's database, its
// own or another) on a real socket, with b's clock, as one more server.
func (b *testBundle) serve(t *testing.T, st store.Store, hook func(start bool)) *httptest.Server {
	t.Helper()
	tokens := token.New(st, "events.test", token.Config{Now: b.clock.Now})
	adm := admin.New(st, tokens, admin.Config{Now: b.clock.Now})
	h, err := console.NewHandlerWithCheckHook(console.Config{Admin: adm, Store: st, PublicURL: "https://events.test", Now: b.clock.Now}, hook)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// browserless is a cookie-keeping client that does not follow redirects
// and remembers the last CSRF token it saw on a page.
type browserless struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func (b *testBundle) client(t *testing.T) *browserless {
	jar, _ := cookiejar.New(nil)
	return &browserless{t: t, base: b.srv.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

type reply struct {
	status int
	header http.Header
	body   string
}

func (c *browserless) do(req *http.Request) reply {
	c.t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindStringSubmatch(string(body)); m != nil {
		c.csrf = m[1]
	}
	return reply{resp.StatusCode, resp.Header, string(body)}
}

func (c *browserless) get(path string) reply {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.do(req)
}

// post sends a form; the remembered CSRF token is added unless the form
// has its own "csrf" (an empty one sends none).
func (c *browserless) post(path string, form url.Values) reply {
	c.t.Helper()
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	} else if form.Get("csrf") == "" {
		form.Del("csrf")
	}
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// savedKey follows the redirect r answered a new key's form with to the
// page that shows the key once, not cached, headed title, and returns the
// savedSecret match of its secret. Reloading that page shows no secret
// and makes no key (a page answering the POST itself would make one at
// every reload).
func (c *browserless) savedKey(t *testing.T, r reply, title string) []string {
	t.Helper()
	loc := r.header.Get("Location")
	if r.status != http.StatusSeeOther || !strings.HasSuffix(loc, "/saved") {
		t.Fatalf("create = %d to %q, want 303 to the page that shows the key; body:\n%s", r.status, loc, r.body)
	}
	page := c.get(loc)
	m := savedSecret.FindStringSubmatch(page.body)
	if page.status != http.StatusOK || m == nil || page.header.Get("Cache-Control") != "no-store" || !strings.Contains(page.body, "<h1>"+title+"</h1>") {
		t.Fatalf("GET %s = %d (Cache-Control %q) without the key shown:\n%s", loc, page.status, page.header.Get("Cache-Control"), page.body)
	}
	again := c.get(loc)
	if again.status != http.StatusOK || strings.Contains(again.body, m[1]) || !strings.Contains(again.body, "has already been shown") {
		t.Errorf("reloading %s = %d, want the page without the secret, saying it was shown:\n%s", loc, again.status, again.body)
	}
	return m
}

func (c *browserless) signIn(email, pw string) reply {
	c.t.Helper()
	c.get("/console/signin")
	return c.post("/console/signin", url.Values{"email": {email}, "password": {pw}, "account": {"Acme"}})
}

// signedIn returns a client signed in as the owner of Acme.
func (b *testBundle) signedIn(t *testing.T, email string) *browserless {
	t.Helper()
	c := b.client(t)
	if r := c.signIn(email, password); r.status != http.StatusSeeOther {
		t.Fatalf("sign in as %s = %d, want 303; body:\n%s", email, r.status, r.body)
	}
	c.get("/console/integrations")
	return c
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name        string
		email, pw   string
		account     string
		wantStatus  int
		wantBody    string
		wantSession bool
	}{
		{"owner", "owner@acme.test", password, "Acme", http.StatusSeeOther, "", true},
		{"administrator", "admin@acme.test", password, "Acme", http.StatusSeeOther, "", true},
		{"wrong password", "owner@acme.test", password + "!", "Acme", http.StatusUnauthorized, "wrong", false},
		{"unknown user", "nobody@acme.test", password, "Acme", http.StatusUnauthorized, "wrong", false},
		{"another account's user", "owner@other.test", password, "Acme", http.StatusUnauthorized, "wrong", false},
		{"unknown account", "owner@acme.test", password, "Nope", http.StatusUnauthorized, "wrong", false},
		{"member", "member@acme.test", password, "Acme", http.StatusForbidden, "Only owners and administrators", false},
		{"empty password", "owner@acme.test", "", "Acme", http.StatusBadRequest, "Enter your e-mail", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := b.client(t)
			c.get("/console/signin")
			r := c.post("/console/signin", url.Values{"email": {tt.email}, "password": {tt.pw}, "account": {tt.account}})
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body:\n%s", r.status, tt.wantStatus, r.body)
			}
			if !strings.Contains(r.body, tt.wantBody) {
				t.Errorf("body lacks %q:\n%s", tt.wantBody, r.body)
			}
			var session *http.Cookie
			for _, ck := range (&http.Response{Header: r.header}).Cookies() {
				if ck.Name == "logbook_console" && ck.MaxAge >= 0 {
					session = ck
				}
			}
			if (session != nil) != tt.wantSession {
				t.Fatalf("session cookie set = %v, want %v", session != nil, tt.wantSession)
			}
			if session != nil {
				if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/console/" {
					t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Lax, Path=/console/", session)
				}
				if got := c.get("/console/integrations"); got.status != http.StatusOK || !strings.Contains(got.body, "Acme Splunk") {
					t.Errorf("integrations after sign-in = %d, want 200 listing Acme Splunk", got.status)
				}
			}
		})
	}
}

func TestSignedOutRedirects(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client(t)
	for _, p := range []string{"/console/integrations", "/console/activity", "/console/integrations/" + b.mine} {
		r := c.get(p)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/signin" {
			t.Errorf("GET %s signed out = %d to %q, want 303 to /console/signin", p, r.status, r.header.Get("Location"))
		}
	}
	if r := c.post("/console/integrations", url.Values{"name": {"x"}, "siem": {"Other"}}); r.status != http.StatusUnauthorized {
		t.Errorf("POST signed out = %d, want 401", r.status)
	}
}

func TestRateLimitedSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client(t)
	for i := range console.MaxSignInFailures {
		if r := c.signIn("owner@acme.test", "not the password"); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i+1, r.status)
		}
	}
	r := c.signIn("owner@acme.test", password)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("right password after %d failures = %d, want 429", console.MaxSignInFailures, r.status)
	}
	if r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "Too many failed attempts") {
		t.Errorf("429 reply lacks Retry-After or its message: %v\n%s", r.header, r.body)
	}
	// Another e-mail from the same address is counted apart.
	if r := c.signIn("admin@acme.test", password); r.status != http.StatusSeeOther {
		t.Errorf("another user's sign-in = %d, want 303", r.status)
	}
	b.clock.Advance(time.Minute)
	if r := b.client(t).signIn("owner@acme.test", password); r.status != http.StatusSeeOther {
		t.Errorf("sign-in a minute later = %d, want 303", r.status)
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "owner@acme.test")
	tests := []struct {
		name string
		csrf []string // nil: none sent
		hdr  map[string]string
	}{
		{"missing", []string{""}, nil},
		{"wrong", []string{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, nil},
		{"cross-site", nil, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"foreign origin", nil, map[string]string{"Origin": "https://evil.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"name": {"Sneaky " + tt.name}, "siem": {"Other"}}
			if tt.csrf != nil {
				form["csrf"] = tt.csrf
			} else {
				form.Set("csrf", c.csrf)
			}
			req, _ := http.NewRequest("POST", c.base+"/console/integrations", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tt.hdr {
				req.Header.Set(k, v)
			}
			r := c.do(req)
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "Request refused") {
				t.Errorf("status = %d, want 403 Request refused; body:\n%s", r.status, r.body)
			}
		})
	}
	page := c.get("/console/integrations")
	if strings.Contains(page.body, "Sneaky") {
		t.Errorf("a refused form made an integration:\n%s", page.body)
	}
	// The sign-in form has its own token.
	fresh := b.client(t)
	fresh.get("/console/signin")
	r := fresh.post("/console/signin", url.Values{"email": {"owner@acme.test"}, "password": {password}, "account": {"Acme"}, "csrf": {""}})
	if r.status != http.StatusForbidden {
		t.Errorf("sign-in without its CSRF token = %d, want 403", r.status)
	}
}

func TestAnotherAccountsIntegration(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "owner@acme.test")
	other := "/console/integrations/" + b.other
	for _, p := range []string{other, other + "/tokens/new"} {
		if r := c.get(p); r.status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, r.status)
		}
	}
	r := c.post(other+"/tokens", url.Values{"name": {"stolen"}, "features": {"itemusages"}, "expires": {"never"}})
	if r.status != http.StatusNotFound {
		t.Errorf("issuing a token for another account's integration = %d, want 404", r.status)
	}
	ts, err := b.st.Tokens(context.Background(), b.other)
	if err != nil || len(ts) != 0 {
		t.Errorf("other account's tokens = %v, %v; want none", ts, err)
	}
}

func TestMemberDemotedMidSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "admin@acme.test")
	ctx := context.Background()
	owner := actorAs(t, b.adm, "Acme", "")
	if _, err := b.adm.SetRole(ctx, owner, "admin@acme.test", store.RoleMember); err != nil {
		t.Fatal(err)
	}
	r := c.get("/console/integrations")
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "Only owners and administrators") {
		t.Errorf("page for a demoted user = %d, want 403 with the refusal; body:\n%s", r.status, r.body)
	}
}

func TestSessionExpires(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "owner@acme.test")
	b.clock.Advance(console.SessionIdle - time.Second)
	if r := c.get("/console/integrations"); r.status != http.StatusOK {
		t.Fatalf("just before idle expiry = %d, want 200", r.status)
	}
	b.clock.Advance(console.SessionIdle)
	if r := c.get("/console/integrations"); r.status != http.StatusSeeOther {
		t.Errorf("after idle expiry = %d, want 303 to sign-in", r.status)
	}
}

func TestSignOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "owner@acme.test")
	if r := c.post("/console/signout", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("sign out = %d, want 303", r.status)
	}
	if r := c.get("/console/integrations"); r.status != http.StatusSeeOther {
		t.Errorf("after sign-out = %d, want 303 to sign-in", r.status)
	}
}

var tokenPath = regexp.MustCompile(`/console/integrations/([A-Z0-9]{26})/tokens/([a-z0-9]{26})/saved`)

func TestIssueShowOnceDownloadOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "owner@acme.test")
	r := c.post("/console/integrations", url.Values{"name": {"Elastic prod"}, "siem": {"elastic"}})
	if r.status != http.StatusSeeOther || !strings.HasSuffix(r.header.Get("Location"), "/tokens/new?setup=1") {
		t.Fatalf("add integration = %d to %q, want 303 to the token form", r.status, r.header.Get("Location"))
	}
	form := c.get(r.header.Get("Location"))
	for _, want := range []string{`value="never" checked`, `value="signinattempts" checked`, `value="itemusages" checked`, `value="auditevents" checked`} {
		if !strings.Contains(form.body, want) {
			t.Errorf("token form lacks default %s", want)
		}
	}
	newToken := strings.TrimSuffix(r.header.Get("Location"), "/new?setup=1")

	// No feature checked: the form comes back naming the field.
	r = c.post(newToken, url.Values{"name": {"none"}, "expires": {"never"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Events to Report: at least one feature") {
		t.Errorf("no features = %d, want 422 naming Events to Report; body:\n%s", r.status, r.body)
	}

	r = c.post(newToken, url.Values{"name": {"elastic agent"}, "expires": {"90d"}, "features": {"auditevents"}})
	m := tokenPath.FindStringSubmatch(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || m == nil {
		t.Fatalf("issue = %d to %q, want 303 to the save page", r.status, r.header.Get("Location"))
	}
	saved := c.get(r.header.Get("Location"))
	secret := regexp.MustCompile(`<textarea id="token"[^>]*>([^<]+)</textarea>`).FindStringSubmatch(saved.body)
	if secret == nil {
		t.Fatalf("save page shows no token:\n%s", saved.body)
	}
	if cc := saved.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("save page Cache-Control = %q, want no-store", cc)
	}
	if again := c.get(r.header.Get("Location")); strings.Contains(again.body, secret[1]) || !strings.Contains(again.body, "already been shown") {
		t.Errorf("save page shown twice shows the token again")
	}

	download := strings.TrimSuffix(r.header.Get("Location"), "/saved") + "/download"
	if other := b.signedIn(t, "admin@acme.test").get(download); other.status != http.StatusGone {
		t.Errorf("download from another session = %d, want 410", other.status)
	}
	d := c.get(download)
	if d.status != http.StatusOK || d.body != secret[1]+"\n" {
		t.Fatalf("download = %d %q, want 200 with the token", d.status, d.body)
	}
	if cd := d.header.Get("Content-Disposition"); cd != `attachment; filename="elastic-agent.token"` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	if d2 := c.get(download); d2.status != http.StatusGone {
		t.Errorf("second download = %d, want 410", d2.status)
	}

	// The token is the one issued: its hash is stored, it has one feature
	// and a 90-day expiry.
	tk, err := b.st.Token(context.Background(), m[2])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tk.ExpiresAt.Sub(tk.IssuedAt), 90*24*time.Hour; got != want {
		t.Errorf("token lifetime = %v, want %v", got, want)
	}
	if len(tk.Features) != 1 || tk.Features[0] != "auditevents" {
		t.Errorf("token features = %v, want [auditevents]", tk.Features)
	}
	// The integration page says the token can read the v3 beta.
	if page := c.get(strings.TrimSuffix(newToken, "/tokens")); !strings.Contains(page.body, `<td data-label="API versions">v1, v2, v3 beta (audit events)</td>`) {
		t.Errorf("integration page does not say the token reads v3:\n%s", page.body)
	}
}

func TestRevokeNeedsConfirmation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, base, id := b.ownToken(t, "owner@acme.test", "to revoke")
	revoke := base + "/tokens/" + id + "/revoke"
	confirm := c.get(revoke)
	if confirm.status != http.StatusOK || !strings.Contains(confirm.body, "Revoke Token") {
		t.Fatalf("confirmation page = %d", confirm.status)
	}
	tk, _ := b.st.Token(context.Background(), id)
	if !tk.RevokedAt.IsZero() {
		t.Fatal("showing the confirmation revoked the token")
	}
	r := c.post(revoke, url.Values{})
	if r.status != http.StatusSeeOther {
		t.Fatalf("revoke = %d, want 303", r.status)
	}
	details := c.get(r.header.Get("Location"))
	if !strings.Contains(details.body, "revoked") || !strings.Contains(details.body, "Token “to revoke” revoked") {
		t.Errorf("details after revoke lack the notice and status:\n%s", details.body)
	}
	tk, _ = b.st.Token(context.Background(), id)
	if tk.RevokedAt.IsZero() {
		t.Error("token not revoked in the store")
	}
}

func TestActivityFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "owner@acme.test")
	r := c.get("/console/activity?range=24h&kind=auditevents&label=create/sa")
	if r.status != http.StatusOK {
		t.Fatalf("activity = %d; body:\n%s", r.status, r.body)
	}
	// setup made create/sa in Acme (and in Other, which must not show).
	if n := strings.Count(r.body, "<code>create/sa</code>"); n != 1 {
		t.Errorf("rows of create/sa = %d, want 1:\n%s", n, r.body)
	}
	if strings.Contains(r.body, "owner@other.test") {
		t.Error("activity shows another account's events")
	}
	for _, bad := range []string{"range=1y", "kind=everything", "rows=0", "rows=abc"} {
		r := c.get("/console/activity?" + bad)
		field, _, _ := strings.Cut(bad, "=")
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, field+":") {
			t.Errorf("activity?%s = %d, want 400 naming %s", bad, r.status, field)
		}
	}
}
