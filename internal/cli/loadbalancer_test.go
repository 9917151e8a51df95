package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/roundtrip"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/testenv"
	"github.com/logbookhq/logbook/internal/token"
)

// lbRatePerMinute is the replicas' --rate-per-minute in TestLoadBalancer.
const lbRatePerMinute = 20

// TestLoadBalancer runs two real "logbook serve" processes on one
// PostgreSQL schema, with rate limits in Redis, behind a real nginx doing
// round-robin, and drives them only through nginx: a console user signs
// in, sets up an integration and a token and revokes it, with consecutive
// requests on different replicas; a connector pages a stream across both;
// the rate limit holds across both. Run with -v to see which replica
// served each step.
func TestLoadBalancer(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if nginx, err = exec.LookPath("/usr/sbin/nginx"); err != nil {
			testenv.Unavailable(t, "no nginx on this machine (apt-get install nginx)")
		}
	}
	dsn := testenv.PostgresSchema(t)
	redisURL := testenv.RedisURL(t)
	dir := t.TempDir()
	ctx := t.Context()

	bin := filepath.Join(dir, "logbook")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/logbookhq/logbook/cmd/logbook").CombinedOutput(); err != nil {
		t.Fatalf("build logbook: %v\n%s", err, out)
	}
	ports := freePorts(t, 3)
	lbAddr := "127.0.0.1:" + ports[0]
	publicURL := "http://" + lbAddr

	// The accounts, users and events, written through a store handle of
	// the test's own, as an operator's tools would.
	st, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	aud, _ := audienceOf(publicURL)
	tokens := token.New(st, aud, token.Config{})
	if err := tokens.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	adm := admin.New(st, tokens, admin.Config{})
	const password = "correct horse battery staple"
	acme, _, err := adm.CreateAccount(ctx, "Acme", admin.NewUser{Email: "owner@acme.test", Password: password})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	t0 := time.Now().Add(-2 * time.Hour).UTC()
	wantEvents := appendItemUsagesTo(t, st, acme.UUID, 120, t0)

	replicas := map[string]string{} // upstream address -> "A" or "B"
	var addrs []string
	for i, name := range []string{"A", "B"} {
		addr := "127.0.0.1:" + ports[1+i]
		startReplica(t, bin, dir, name, addr, "--db", dsn, "--public-url", publicURL, "--no-demo",
			"--redis", redisURL, "--rate-per-minute", strconv.Itoa(lbRatePerMinute), "--rate-per-hour", "0")
		replicas[addr] = name
		addrs = append(addrs, addr)
	}
	for _, addr := range addrs {
		waitReady(t, "replica "+replicas[addr], "http://"+addr+"/readyz")
	}
	conf := startNginx(t, nginx, filepath.Join(dir, "nginx"), lbAddr, addrs)
	waitReady(t, "nginx", publicURL+"/readyz")
	t.Logf("nginx on %s round-robin over A=%s and B=%s; its configuration:\n%s", lbAddr, addrs[0], addrs[1], conf)

	// The console, through nginx.
	b := newLBBrowser(t, publicURL, replicas)
	b.step("open the sign-in page", "GET", "/console/signin", nil, http.StatusOK)
	b.step("sign in", "POST", "/console/signin", url.Values{"email": {"owner@acme.test"}, "password": {password}, "account": {"Acme"}}, http.StatusSeeOther)
	b.step("list integrations", "GET", "/console/integrations", nil, http.StatusOK)
	r := b.step("add a Splunk integration", "POST", "/console/integrations", url.Values{"name": {"Splunk via nginx"}, "siem": {"splunk"}}, http.StatusSeeOther)
	newToken := r.location
	r = b.step("open the token form", "GET", newToken, nil, http.StatusOK)
	r = b.step("issue a token", "POST", strings.TrimSuffix(newToken, "/new?setup=1"), url.Values{"name": {"connector"}, "expires": {"30d"},
		"features": {"signinattempts", "itemusages", "auditevents"}, "setup": {"1"}}, http.StatusSeeOther)
	saved := r.location
	r = b.step("show the token (Save your token)", "GET", saved, nil, http.StatusOK)
	m := regexp.MustCompile(`<textarea id="token"[^>]*>([^<]+)</textarea>`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("the save page shows no token:\n%s", r.body)
	}
	secret := m[1]
	r = b.step("download the token", "GET", strings.TrimSuffix(saved, "/saved")+"/download", nil, http.StatusOK)
	if r.body != secret+"\n" {
		t.Errorf("download served %q, want the secret the save page showed", r.body)
	}
	b.step("show the token again (refused)", "GET", saved, nil, http.StatusOK)
	if strings.Contains(b.lastBody, secret) {
		t.Errorf("the save page showed the secret a second time")
	}
	for _, addr := range addrs {
		got := apiStatus(t, "http://"+addr, secret)
		t.Logf("   the new token sent to replica %s directly (%s): %d", replicas[addr], addr, got)
		if got != http.StatusOK {
			t.Errorf("the new token on replica %s directly = %d, want 200", replicas[addr], got)
		}
	}

	// A connector pages the whole stream through nginx.
	got := b.pageAll(secret, t0.Add(-time.Minute), 25)
	if d := cmp.Diff(wantEvents, got); d != "" {
		t.Errorf("events paged through nginx (-want +got):\n%s", d)
	}

	integration := strings.Split(strings.TrimPrefix(saved, "/console/integrations/"), "/")[0]
	tokenID := strings.Split(strings.TrimPrefix(saved, "/console/integrations/"+integration+"/tokens/"), "/")[0]
	b.step("view integration details", "GET", "/console/integrations/"+integration, nil, http.StatusOK)
	if !strings.Contains(b.lastBody, "connector") {
		t.Errorf("the integration details do not list the token")
	}
	b.step("confirm revoking the token", "GET", "/console/integrations/"+integration+"/tokens/"+tokenID+"/revoke", nil, http.StatusOK)
	b.step("revoke the token", "POST", "/console/integrations/"+integration+"/tokens/"+tokenID+"/revoke", url.Values{}, http.StatusSeeOther)
	// Revocation is read from the database on every request (the token
	// service caches only signature checks), so no replica has a window
	// in which it still accepts the token.
	for _, addr := range addrs {
		got := apiStatus(t, "http://"+addr, secret)
		t.Logf("   the revoked token sent to replica %s directly (%s): %d", replicas[addr], addr, got)
		if got != http.StatusUnauthorized {
			t.Errorf("the revoked token on replica %s directly = %d, want 401", replicas[addr], got)
		}
	}
	b.api("the revoked token through nginx", secret, `{"limit":1}`, http.StatusUnauthorized)
	b.api("the revoked token through nginx", secret, `{"limit":1}`, http.StatusUnauthorized)
	b.check()

	// The rate limit holds across both: lbRatePerMinute requests in a
	// minute window over both replicas, then 429s. Fixed windows are
	// aligned to the clock; if a run crosses a minute boundary it is
	// repeated for a fresh account (at most twice).
	for attempt := 1; ; attempt++ {
		acct, _, err := adm.CreateAccount(ctx, fmt.Sprintf("Limited %d", attempt), admin.NewUser{Email: "owner@limited.test"})
		if err != nil {
			t.Fatal(err)
		}
		actor, err := adm.ActorIn(ctx, acct.UUID, "")
		if err != nil {
			t.Fatal(err)
		}
		in, err := adm.CreateIntegration(ctx, actor, "Limited", "Other")
		if err != nil {
			t.Fatal(err)
		}
		is, err := adm.IssueToken(ctx, actor, admin.IssueRequest{Integration: in.UUID, Name: "limited"})
		if err != nil {
			t.Fatal(err)
		}
		l := newLBBrowser(t, publicURL, replicas)
		window := time.Now().Truncate(time.Minute)
		var statuses []int
		served := map[string]int{}
		for range lbRatePerMinute + 6 {
			r := l.api("rate-limited account", is.Secret, `{"limit":1}`, 0)
			statuses = append(statuses, r.status)
			if r.status == http.StatusOK {
				served[replicas[r.upstream]]++
			}
			if r.status == http.StatusTooManyRequests && r.header.Get("Retry-After") == "" {
				t.Errorf("429 from %s without Retry-After", replicas[r.upstream])
			}
		}
		if !time.Now().Truncate(time.Minute).Equal(window) {
			if attempt < 3 {
				t.Logf("the run crossed a minute boundary; again with a fresh account")
				continue
			}
			t.Fatal("three runs crossed a minute boundary")
		}
		l.check()
		want := slices.Repeat([]int{http.StatusOK}, lbRatePerMinute)
		want = append(want, slices.Repeat([]int{http.StatusTooManyRequests}, 6)...)
		if d := cmp.Diff(want, statuses); d != "" {
			t.Errorf("statuses of %d requests through nginx, limit %d a minute (-want +got):\n%s", lbRatePerMinute+6, lbRatePerMinute, d)
		}
		if served["A"] == 0 || served["B"] == 0 {
			t.Errorf("the allowed requests were served by A %d and B %d times, want both", served["A"], served["B"])
		}
		t.Logf("rate limit %d/minute across both replicas: A allowed %d, B allowed %d, then %d x 429",
			lbRatePerMinute, served["A"], served["B"], 6)
		break
	}
}

// freePorts returns n TCP ports free on 127.0.0.1 a moment ago. The
// replicas and nginx need to know each other's before they start.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var ports []string
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		_, p, _ := net.SplitHostPort(l.Addr().String())
		ports = append(ports, p)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// childEnv is the test's environment without LOGBOOK_* variables, so a
// child serve takes its settings from its flags only.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LOGBOOK_") {
			env = append(env, kv)
		}
	}
	return env
}

// startReplica starts "logbook serve" with its own data directory and log
// file, and stops it (SIGTERM, then SIGKILL after 10s) when the test ends.
func startReplica(t *testing.T, bin, dir, name, addr string, args ...string) {
	t.Helper()
	logPath := filepath.Join(dir, "replica-"+name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--data", filepath.Join(dir, "data-"+name), "--listen", addr}, args...)...)
	cmd.Stdout, cmd.Stderr, cmd.Env = logf, logf, childEnv()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start replica %s: %v", name, err)
	}
	stopChild(t, "replica "+name, cmd, syscall.SIGTERM, logPath)
	logf.Close()
}

// stopChild ends cmd with sig when the test ends (SIGKILL after 10s), and
// shows its log if the test failed.
func stopChild(t *testing.T, name string, cmd *exec.Cmd, sig os.Signal, logPath string) {
	t.Helper()
	t.Cleanup(func() {
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		_ = cmd.Process.Signal(sig)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not stop within 10s of %v; killed", name, sig)
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("%s log:\n%s", name, b)
			}
		}
	})
}

// waitReady polls url until it answers 200, for at most a minute.
func waitReady(t *testing.T, what, url string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		<-tick.C
	}
	t.Fatalf("%s not ready at %s within a minute: %s", what, url, last)
}

// startNginx writes a configuration that balances round-robin over
// upstreams and adds X-Upstream to every response, starts nginx in the
// foreground with everything under prefix, and stops it when the test
// ends. It returns the configuration.
func startNginx(t *testing.T, nginx, prefix, listen string, upstreams []string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(prefix, "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	var servers strings.Builder
	for _, u := range upstreams {
		fmt.Fprintf(&servers, "        server %s;\n", u)
	}
	conf := fmt.Sprintf(`worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 256; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    upstream logbook {
%[2]s    }
    server {
        listen %[3]s;
        location / {
            proxy_pass http://logbook;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_max_temp_file_size 0;
            client_body_buffer_size 1m;
            add_header X-Upstream $upstream_addr always;
        }
    }
}
`, prefix, servers.String(), listen)
	path := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	errLog := filepath.Join(prefix, "error.log")
	cmd := exec.Command(nginx, "-p", prefix, "-c", path, "-e", errLog, "-g", "daemon off;")
	out, err := os.Create(filepath.Join(prefix, "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	// SIGQUIT: nginx finishes its requests, then exits.
	stopChild(t, "nginx", cmd, syscall.SIGQUIT, errLog)
	return conf
}

// appendItemUsagesTo stores n item usages, a second apart from t0, and
// returns their UUIDs.
func appendItemUsagesTo(t *testing.T, st store.EventStore, account string, n int, t0 time.Time) []string {
	t.Helper()
	w := ingest.NewWriter(st, account, 0)
	var ids []string
	for i := range n {
		ev := &events.ItemUsage{UUID: events.NewID(), Timestamp: t0.Add(time.Duration(i) * time.Second),
			UsedVersion: 1, VaultUUID: "v", ItemUUID: "i", Action: "fill", AccountUUID: account,
			User: events.User{UUID: "u", Name: "Wendy", Email: "wendy@acme.test"}}
		if err := w.Add(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.UUID)
	}
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	return ids
}

// apiStatus is the status of one audit-events request with tok at base.
func apiStatus(t *testing.T, base, tok string) int {
	t.Helper()
	req := roundtrip.New(t, "POST", base+"/api/v2/auditevents", tok, `{"limit":1}`)
	req.Header.Set("Content-Type", "application/json")
	res, _ := roundtrip.Do(t, nil, req)
	return res.StatusCode
}

// lbBrowser is a cookie-keeping client of the load balancer that does not
// follow redirects, keeps the last CSRF token it saw, logs which replica
// served each request, and records whether consecutive requests were
// served by different replicas.
type lbBrowser struct {
	t        *testing.T
	base     string
	c        *http.Client
	replicas map[string]string
	csrf     string
	lastBody string
	last     string // the replica of the previous request
	n        int
	same     []string // steps served by the replica of the step before
}

type lbReply struct {
	status   int
	header   http.Header
	body     string
	location string
	upstream string
}

func newLBBrowser(t *testing.T, base string, replicas map[string]string) *lbBrowser {
	jar, _ := cookiejar.New(nil)
	return &lbBrowser{t: t, base: base, replicas: replicas, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var lbCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *lbBrowser) do(what string, req *http.Request, want int) lbReply {
	b.t.Helper()
	resp, body := roundtrip.Do(b.t, b.c, req)
	r := lbReply{status: resp.StatusCode, header: resp.Header, body: string(body),
		location: resp.Header.Get("Location"), upstream: resp.Header.Get("X-Upstream")}
	name, ok := b.replicas[r.upstream]
	if !ok {
		b.t.Fatalf("%s: X-Upstream %q names neither replica", what, r.upstream)
	}
	b.n++
	b.t.Logf("%2d %-34s %-4s %-52s %d  served by %s (%s)", b.n, what, req.Method, shortPath(req.URL.Path), r.status, name, r.upstream)
	if name == b.last {
		b.same = append(b.same, what)
	}
	b.last = name
	if m := lbCSRF.FindStringSubmatch(r.body); m != nil {
		b.csrf = m[1]
	}
	b.lastBody = r.body
	if want != 0 && r.status != want {
		b.t.Fatalf("%s: status %d, want %d; body:\n%s", what, r.status, want, r.body)
	}
	return r
}

// step sends a console request: a GET, or a form POST with the CSRF token.
func (b *lbBrowser) step(what, method, path string, form url.Values, want int) lbReply {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		form.Set("csrf", b.csrf)
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequestWithContext(b.t.Context(), method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return b.do(what, req, want)
}

// api posts body to the item usages endpoint with tok.
func (b *lbBrowser) api(what, tok, body string, want int) lbReply {
	b.t.Helper()
	req, _ := http.NewRequestWithContext(b.t.Context(), "POST", b.base+"/api/v2/itemusages", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	return b.do(what, req, want)
}

// pageAll pages the item usages from start with limit per page, as a
// connector does, and returns the UUIDs in the order served.
func (b *lbBrowser) pageAll(tok string, start time.Time, limit int) []string {
	b.t.Helper()
	body, _ := json.Marshal(events.ResetCursor{Limit: limit, StartTime: &start})
	var got []string
	for page := 1; ; page++ {
		if page > 50 {
			b.t.Fatal("no end of the stream after 50 pages")
		}
		r := b.api(fmt.Sprintf("connector: page %d", page), tok, string(body), http.StatusOK)
		var p struct {
			Cursor  string `json:"cursor"`
			HasMore bool   `json:"has_more"`
			Items   []struct {
				UUID string `json:"uuid"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(r.body), &p); err != nil {
			b.t.Fatalf("page %d: %v", page, err)
		}
		for _, it := range p.Items {
			got = append(got, it.UUID)
		}
		if !p.HasMore {
			return got
		}
		body, _ = json.Marshal(events.CursorRequest{Cursor: p.Cursor})
	}
}

// shortPath abbreviates the integration and token IDs in a console path.
func shortPath(p string) string {
	return regexp.MustCompile(`/([A-Za-z0-9]{26})`).ReplaceAllStringFunc(p, func(id string) string { return id[:5] + "…" })
}

// check fails the test if two consecutive requests were served by one
// replica.
func (b *lbBrowser) check() {
	b.t.Helper()
	if len(b.same) > 0 {
		b.t.Errorf("these steps were served by the same replica as the step before them: %q", b.same)
	}
}
