package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/cli"
	"github.com/logbookhq/logbook/internal/servertest"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/testenv"
)

// chromiumPath finds the system browser: $LOGBOOK_CHROMIUM, or chromium on
// the PATH (Debian's package "chromium").
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LOGBOOK_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Unavailable(t, "no Chromium on this machine (apt-get install chromium, or set LOGBOOK_CHROMIUM to a Chrome binary)")
	return ""
}

// artifacts returns the directory screenshots go to and leaves them
// there after the run: $LOGBOOK_SCREENSHOTS/<test>, else
// $LOGBOOK_ARTIFACTS/<test>, else testdata/screenshots/<test> in the
// package (ignored by git). PNGs of an earlier run are removed first.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("LOGBOOK_SCREENSHOTS")
	if dir == "" {
		dir = os.Getenv("LOGBOOK_ARTIFACTS")
	}
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	dir, err := filepath.Abs(filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")))
	if err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	for _, p := range old {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is a headless Chromium tab for one test.
type browser struct {
	t   *testing.T
	ctx context.Context
	dir string
	n   int
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return &browser{t: t, ctx: ctx, dir: artifacts(t)}
}

// do runs steps with a deadline, failing the test with what was being done.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.shot("failed")
		b.t.Fatalf("%s: %v", what, err)
	}
}

func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.shot("failed")
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// shot saves a full-page PNG named after the step.
func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	b.n++
	p := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.n, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Errorf("save screenshot: %v", err)
	}
}

// heading waits for the page whose h1 is text.
func heading(text string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(fmt.Sprintf(`//h1[normalize-space()=%q]`, text))
}

// callAPI posts a one-event reset to an Events API endpoint with a token
// and returns the status.
func callAPI(t *testing.T, baseURL, path, token string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", baseURL+path, strings.NewReader(`{"limit":1}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestBrowserFlow drives the seed's Events Reporting flow (spec §11) in
// headless Chromium against a real server with the first-run demo: sign
// in, add an integration, issue a token for item usages only that expires
// in 30 days, use it, revoke it, and see it refused.
func TestBrowserFlow(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Demo: true})
	pw, err := os.ReadFile(filepath.Join(srv.DataDir, "demo.password"))
	if err != nil {
		t.Fatalf("demo password: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(srv.DataDir, "demo.password")); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("demo.password mode = %v, want 0600", fi.Mode().Perm())
	}
	b := newBrowser(t)

	b.do("open the console", chromedp.Navigate(srv.ConsoleURL), heading("Sign in to the console"))
	b.shot("signin")
	b.do("sign in",
		chromedp.SendKeys(chromedp.ID("email"), "demo@example.com"),
		chromedp.SendKeys(chromedp.ID("password"), strings.TrimSpace(string(pw))),
		chromedp.Click(chromedp.CSS(`main button[type=submit]`)),
		heading("Integrations"))
	b.shot("integrations")

	b.do("choose Splunk", chromedp.Click(chromedp.CSS(`a.tile[href$="type=splunk"]`)), heading("Add a Splunk integration"))
	b.do("name it", chromedp.SendKeys(chromedp.ID("name"), "Splunk Cloud"))
	b.shot("integration-name")
	b.do("add integration", chromedp.Click(`//button[normalize-space()="Add Integration"]`), heading("Set up token"))

	checked := run(b, "read the defaults", chromedp.Evaluate[[]bool](
		`[...document.querySelectorAll('input[name=features]')].map(e => e.checked).concat([document.querySelector('input[name=expires][value=never]').checked])`))
	if fmt.Sprint(checked) != "[true true true true]" {
		t.Errorf("features checked and Never chosen by default = %v, want all true", checked)
	}
	b.do("fill the token form",
		chromedp.SendKeys(chromedp.ID("name"), "splunk item usages"),
		chromedp.Click(chromedp.CSS(`input[name=expires][value="30d"]`)),
		chromedp.Click(chromedp.CSS(`input[name=features][value=signinattempts]`)),
		chromedp.Click(chromedp.CSS(`input[name=features][value=auditevents]`)))
	b.shot("set-up-token")
	b.do("issue token", chromedp.Click(`//button[normalize-space()="Issue Token"]`), heading("Save your token"))
	secret := run(b, "read the token", chromedp.Value(chromedp.ID("token")))
	curl := run(b, "read the curl command", chromedp.Text(chromedp.ID("curl")))
	b.shot("save-your-token")
	if strings.Count(secret, ".") != 2 {
		t.Fatalf("token on the page = %q, want a JWS", secret)
	}
	if !strings.Contains(curl, srv.URL+"/api/v2/itemusages") {
		t.Errorf("curl command = %q, want it to call %s/api/v2/itemusages", curl, srv.URL)
	}

	if got := callAPI(t, srv.URL, "/api/v2/itemusages", secret); got != http.StatusOK {
		t.Errorf("itemusages with the new token = %d, want 200", got)
	}
	if got := callAPI(t, srv.URL, "/api/v2/signinattempts", secret); got != http.StatusUnauthorized {
		t.Errorf("signinattempts with an item-usages token = %d, want 401", got)
	}

	b.do("view details", chromedp.Click(`//a[normalize-space()="View Integration Details"]`), heading("Splunk Cloud"))
	row := run(b, "read the token row", chromedp.Text(chromedp.CSS(`table.tokens tbody tr`)))
	b.shot("integration-details")
	for _, want := range []string{"splunk item usages", "Item usages", "active"} {
		if !strings.Contains(row, want) {
			t.Errorf("token row %q lacks %q", row, want)
		}
	}
	if strings.Contains(row, "Sign-in") || strings.Contains(row, "Audit") {
		t.Errorf("token row %q lists features it does not have", row)
	}
	wantExpiry := time.Now().UTC().Add(30 * 24 * time.Hour).Format("Jan 2, 2006")
	if !strings.Contains(row, wantExpiry) {
		t.Errorf("token row %q lacks the expiry date %s", row, wantExpiry)
	}

	b.do("ask to revoke", chromedp.Click(chromedp.CSS(`a[aria-label="Revoke splunk item usages"]`)), heading(`Revoke “splunk item usages”?`))
	b.shot("revoke-confirm")
	b.do("revoke", chromedp.Click(`//button[normalize-space()="Revoke Token"]`), heading("Splunk Cloud"),
		chromedp.WaitVisible(chromedp.CSS(`span.badge.revoked`)))
	b.shot("revoked")
	if got := callAPI(t, srv.URL, "/api/v2/itemusages", secret); got != http.StatusUnauthorized {
		t.Errorf("itemusages with the revoked token = %d, want 401", got)
	}

	b.do("open activity", chromedp.Click(chromedp.CSS(`nav.sidebar a[href$="/activity"]`)), heading("Activity"),
		chromedp.WaitVisible(chromedp.CSS(`svg.chart`)))
	charts := run(b, "count charts", chromedp.Evaluate[int](`document.querySelectorAll('svg.chart rect').length`))
	events := run(b, "count events", chromedp.Evaluate[int](`document.querySelectorAll('table.events tbody tr').length`))
	b.shot("activity")
	if charts == 0 || events == 0 {
		t.Errorf("activity page has %d bars and %d event rows, want some of each from the demo", charts, events)
	}
	score := run(b, "read scorecards", chromedp.Text(chromedp.CSS(`section[aria-labelledby=scorecards]`)))
	if !strings.Contains(score, "splunk item usages") || !strings.Contains(score, "Item usages") {
		t.Errorf("scorecards section lacks the used token and its stream:\n%s", score)
	}
	b.do("filter audit events", chromedp.SetValue(chromedp.ID("kind"), "auditevents"),
		chromedp.Click(`//button[normalize-space()="Apply"]`),
		chromedp.WaitReady(chromedp.CSS(`select#kind option[value=auditevents][selected]`)))
	kinds := run(b, "read kinds", chromedp.Evaluate[[]string](`[...new Set([...document.querySelectorAll('table.events tbody tr td:nth-child(2)')].map(e => e.textContent))]`))
	b.shot("activity-audit")
	if fmt.Sprint(kinds) != "[Audit events]" {
		t.Errorf("kinds listed with the audit filter = %v, want [Audit events]", kinds)
	}
	charts = run(b, "count charts with the audit filter", chromedp.Evaluate[int](`document.querySelectorAll('svg.chart').length`))
	if charts != 1 {
		t.Errorf("charts with the audit filter = %d, want 1: the filter applies to the charts", charts)
	}

	// A click on a bar lists that bar's events of that action.
	label := run(b, "read a bar", chromedp.Evaluate[string](`document.querySelector('svg.chart a').getAttribute('aria-label').split(':')[0]`))
	b.do("click a bar", chromedp.Click(chromedp.CSS(`svg.chart a rect`)),
		chromedp.WaitVisible(`//p[starts-with(normalize-space(), "Showing the bar")]`))
	shown := run(b, "read the bar's rows", chromedp.Evaluate[[]string](`[...new Set([...document.querySelectorAll('table.events tbody tr td:nth-child(3)')].map(e => e.textContent))]`))
	b.shot("activity-bar")
	if fmt.Sprint(shown) != "["+label+"]" {
		t.Errorf("labels listed after a click on a %s bar = %v", label, shown)
	}
	hover := run(b, "read a time", chromedp.Evaluate[string](`document.querySelector('table.events time').title`))
	if !strings.HasSuffix(hover, " UTC") {
		t.Errorf("an event's time has hover text %q, want the exact UTC time", hover)
	}
	t.Logf("screenshots in %s", b.dir)
}

// TestConsoleListen serves the console on its own loopback listener: the
// main listener no longer has /console/, the console's has it (and / leads
// there).
func TestConsoleListen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "logbook.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := cli.StartServer(t.Context(), cli.ServerOptions{Store: st, Listen: "127.0.0.1:0", ConsoleListen: ":0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	u, err := url.Parse(srv.ConsoleURL)
	if err != nil || u.Hostname() != "127.0.0.1" || u.Host == strings.TrimPrefix(srv.URL, "http://") {
		t.Fatalf("ConsoleURL = %q, want its own port on 127.0.0.1", srv.ConsoleURL)
	}
	tests := []struct {
		url  string
		want int
	}{
		{srv.URL + "/console/signin", http.StatusNotFound},
		{srv.ConsoleURL + "signin", http.StatusOK},
		{strings.TrimSuffix(srv.ConsoleURL, "console/"), http.StatusOK}, // redirected to sign-in
	}
	for _, tt := range tests {
		resp, err := http.Get(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GET %s = %d, want %d", tt.url, resp.StatusCode, tt.want)
		}
	}
}

// viewports are the sizes every console page is checked at: a phone and a
// laptop.
var viewports = []struct{ w, h int64 }{{390, 844}, {1280, 800}}

// consolePage is one page the layout test visits: its URL and the h1 that
// says it has loaded.
type consolePage struct {
	name, url, h1 string
}

// checkPages visits every page at every viewport, fails on horizontal
// overflow and saves a screenshot of each.
func (b *browser) checkPages(pages []consolePage) {
	b.t.Helper()
	for _, vp := range viewports {
		b.do(fmt.Sprintf("viewport %dx%d", vp.w, vp.h), chromedp.EmulateViewport(vp.w, vp.h))
		for _, p := range pages {
			b.do("open "+p.name, chromedp.Navigate(p.url), heading(p.h1))
			b.check(p.name, vp.w, vp.h)
		}
	}
}

// check fails the test if the page is wider than the window, naming the
// elements that stick out, or if axe-core finds a serious or critical
// accessibility violation on it, and saves a screenshot of it.
func (b *browser) check(name string, w, h int64) {
	b.t.Helper()
	wide := run(b, "measure "+name, chromedp.Evaluate[[]string](`(() => {
		const w = window.innerWidth;
		if (document.documentElement.scrollWidth <= w) return [];
		return [document.documentElement.scrollWidth + " > " + w].concat([...document.querySelectorAll("body *")]
			.filter(e => e.getBoundingClientRect().right > w + 0.5 && e.getBoundingClientRect().width > 0)
			.slice(0, 8).map(e => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).replace(/ /g, ".") : "") + " right=" + Math.round(e.getBoundingClientRect().right)));
	})()`))
	b.shot(fmt.Sprintf("%s-%d", name, w))
	if len(wide) > 0 {
		b.t.Errorf("%s at %dx%d overflows horizontally: %s", name, w, h, strings.Join(wide, "; "))
	}
	b.do("inject axe-core into "+name, chromedp.Evaluate[chromedp.Void](axeSourceOf(b.t)))
	res := run(b, "run axe-core on "+name, chromedp.Evaluate[axeResult](`axe.run(document).then(r => ({
		passes: r.passes.length,
		violations: r.violations.map(v => ({impact: v.impact, text: v.impact + " " + v.id + ": " + v.help + " (" +
			v.nodes.slice(0, 4).map(n => n.target.join(" ")).join(", ") + ")"}))}))`,
		chromedp.EvalAwaitPromise))
	if res.Passes == 0 {
		b.t.Errorf("%s at %dx%d: axe-core checked nothing", name, w, h)
	}
	for _, v := range res.Violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Errorf("%s at %dx%d: axe-core: %s", name, w, h, v.Text)
		} else {
			b.t.Logf("%s at %dx%d: axe-core: %s", name, w, h, v.Text)
		}
	}
}

// axeResult is what the test keeps of axe.run's results.
type axeResult struct {
	Passes     int `json:"passes"`
	Violations []struct {
		Impact string `json:"impact"`
		Text   string `json:"text"`
	} `json:"violations"`
}

// axeSource is the vendored axe-core (testdata/axe-core, npm's build).
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "axe-core", "axe.min.js"))
	return string(b), err
})

func axeSourceOf(t *testing.T) string {
	t.Helper()
	s, err := axeSource()
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	return s
}

// TestBrowserPages visits every console page at a phone's and a laptop's
// size: none may be wider than the window, and each leaves a screenshot
// (logged) for a person to look at.
func TestBrowserPages(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Demo: true})
	ctx := t.Context()
	pw, err := os.ReadFile(filepath.Join(srv.DataDir, "demo.password"))
	if err != nil {
		t.Fatalf("demo password: %v", err)
	}
	owner := actorAs(t, srv.Admin, srv.Account, "demo@example.com")
	key, err := srv.Admin.CreateIngestKey(ctx, owner, "laptop agent")
	if err != nil {
		t.Fatal(err)
	}
	adminKey, err := srv.Admin.CreateAPIKey(ctx, owner, "deploy script")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Admin.AddUser(ctx, owner, admin.NewUser{Email: "a.very.long.address.for.a.phone@subsidiary.example.com", Role: store.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	toks, err := srv.Admin.Tokens(ctx, owner, srv.Integration)
	if err != nil || len(toks) == 0 {
		t.Fatalf("demo tokens = %v, %v", toks, err)
	}
	details, err := srv.Admin.Integration(ctx, owner, srv.Integration)
	if err != nil {
		t.Fatal(err)
	}
	c := srv.ConsoleURL
	in := c + "integrations/" + srv.Integration
	b := newBrowser(t)

	b.checkPages([]consolePage{{"signin", c + "signin", "Sign in to the console"}})
	b.do("sign in", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(c+"signin"),
		chromedp.SendKeys(chromedp.ID("email"), "demo@example.com"),
		chromedp.SendKeys(chromedp.ID("password"), strings.TrimSpace(string(pw))),
		chromedp.Click(chromedp.CSS(`main button[type=submit]`)),
		heading("Integrations"))
	// On a phone the sidebar is a Menu button that opens it.
	b.do("open the phone's menu", chromedp.EmulateViewport(390, 844), chromedp.Navigate(c+"integrations"), heading("Integrations"),
		chromedp.WaitNotVisible(chromedp.CSS(`nav.sidebar a[href$="/users"]`)),
		chromedp.Click(chromedp.CSS(`button.menu-button`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.sidebar a[href$="/users"]`)))
	if got := run(b, "read the menu button", chromedp.Evaluate[string](`document.querySelector("button.menu-button").getAttribute("aria-expanded")`)); got != "true" {
		t.Errorf("the open menu's button has aria-expanded=%q, want true", got)
	}
	b.check("menu-open", 390, 844)
	b.do("follow the menu", chromedp.Click(chromedp.CSS(`nav.sidebar a[href$="/users"]`)), heading("Users"))

	// The save page shows a token once: one is issued at each size.
	for _, vp := range viewports {
		b.do("issue a token", chromedp.EmulateViewport(vp.w, vp.h), chromedp.Navigate(in+"/tokens/new"), heading("Set up token"),
			chromedp.SendKeys(chromedp.ID("name"), fmt.Sprintf("a token with a long name, to see it wrap at %d pixels", vp.w)),
			chromedp.Click(`//button[normalize-space()="Issue Token"]`), heading("Save your token"))
		whole := run(b, "measure the token", chromedp.Evaluate[bool](
			`(() => { const t = document.getElementById("token"); return t.value.length > 100 && t.scrollHeight <= t.clientHeight && t.scrollWidth <= t.clientWidth; })()`))
		if !whole {
			t.Errorf("at %dx%d the token's text area does not show the whole token", vp.w, vp.h)
		}
		b.check("token-saved", vp.w, vp.h)
	}
	saved := run(b, "read the save page's URL", chromedp.Location())
	for _, vp := range viewports {
		b.do("make an admin key", chromedp.EmulateViewport(vp.w, vp.h), chromedp.Navigate(c+"keys"), heading("Keys"),
			chromedp.SendKeys(chromedp.ID("key-name"), fmt.Sprintf("made at %d pixels", vp.w)),
			chromedp.Click(`//button[normalize-space()="Create Admin Key"]`), heading("Save your admin key"))
		b.check("admin-key-saved", vp.w, vp.h)
	}
	for _, vp := range viewports {
		b.do("make an ingest key", chromedp.EmulateViewport(vp.w, vp.h), chromedp.Navigate(c+"ingest-keys"), heading("Ingest keys"),
			chromedp.SendKeys(chromedp.ID("key-name"), fmt.Sprintf("collector made at %d pixels", vp.w)),
			chromedp.Click(`//button[normalize-space()="Create Ingest Key"]`), heading("Save your ingest key"))
		b.check("ingest-key-saved", vp.w, vp.h)
	}

	b.checkPages([]consolePage{
		{"integrations", c + "integrations", "Integrations"},
		{"integration-new", c + "integrations/new?type=splunk", "Add a Splunk integration"},
		{"integration", in, details.Name},
		{"token-new", in + "/tokens/new", "Set up token"},
		{"token-shown", saved, "Save your token"},
		{"token-revoke", in + "/tokens/" + toks[0].ID + "/revoke", "Revoke “" + toks[0].Name + "”?"},
		{"token-rename", in + "/tokens/" + toks[0].ID + "/rename", "Rename “" + toks[0].Name + "”"},
		{"integration-delete", in + "/delete", "Delete “" + details.Name + "”?"},
		{"users", c + "users", "Users"},
		{"user-new", c + "users/new", "Add a user"},
		{"keys", c + "keys", "Keys"},
		{"keys-rotate", c + "keys/rotate", "Rotate the signing key?"},
		{"admin-key-revoke", c + "keys/admin/" + adminKey.ID + "/revoke", "Revoke “deploy script”?"},
		{"activity", c + "activity", "Activity"},
		{"activity-page-2", c + "activity?kind=auditevents&rows=5&page=2", "Activity"},
		{"activity-search-sorted", c + "activity?range=30d&q=demo&sort=who", "Activity"},
		{"account", c + "account", "Account"},
		{"ingest-keys", c + "ingest-keys", "Ingest keys"},
		{"ingest-key-revoke", c + "ingest-keys/" + key.ID + "/revoke", "Revoke “laptop agent”?"},
		{"not-found", c + "integrations/00000000000000000000000000", "Not found"},
	})
	t.Logf("screenshots in %s", b.dir)
}
