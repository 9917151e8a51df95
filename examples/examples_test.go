// Package examples_test runs every example client under examples/ as a
// subprocess against a freshly started Logbook server, and checks what it
// prints against what the server holds.
//
// For each language: run 1 must print every event exactly once; after the
// test ingests a few events, run 2 (from the saved state) must print exactly
// those; a run through a proxy that answers 429 once and 500 once must
// still print every event exactly once; a bad token and a bad saved cursor
// must stop the example with a non-zero exit and a clear message.
//
// An interpreter that is missing skips its language locally and fails the
// test under CI=true.
package examples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/internal/testenv"
)

// language is one example client and how to start it.
type language struct {
	name string
	// command returns the command line that runs the example, or skips
	// (fails under CI) when its interpreter is missing.
	command func(t *testing.T) []string
	// trust returns cmd changed, and environment variables to add, so that
	// the example trusts the CA certificate in the PEM file ca.
	trust func(cmd []string, ca string) ([]string, []string)
}

var languages = []language{
	{"go", goCommand, caEnv("SSL_CERT_FILE")},
	{"node", interpreted("node", "node/events.mjs"), caEnv("NODE_EXTRA_CA_CERTS")},
	{"python", interpreted("python3", "python/events.py"), caEnv("SSL_CERT_FILE")},
	{"ruby", interpreted("ruby", "ruby/events.rb"), caEnv("SSL_CERT_FILE")},
	// PHP's curl extension reads no environment variable for its CA file.
	{"php", interpreted("php", "php/events.php"), func(cmd []string, ca string) ([]string, []string) {
		return slices.Insert(slices.Clone(cmd), 1, "-d", "curl.cainfo="+ca), nil
	}},
}

func caEnv(name string) func(cmd []string, ca string) ([]string, []string) {
	return func(cmd []string, ca string) ([]string, []string) { return cmd, []string{name + "=" + ca} }
}

func interpreted(interpreter, script string) func(t *testing.T) []string {
	return func(t *testing.T) []string {
		t.Helper()
		path, err := exec.LookPath(interpreter)
		if err != nil {
			testenv.Unavailable(t, "%s is not installed: %v", interpreter, err)
		}
		abs, err := filepath.Abs(script)
		if err != nil {
			t.Fatal(err)
		}
		return []string{path, abs}
	}
}

// goBuildDir holds the Go example's binary once goBuild has run.
var goBuildDir string

// goBuild builds the Go example once for every test that runs it.
var goBuild = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "logbook-examples-")
	if err != nil {
		return "", err
	}
	goBuildDir = dir
	bin := filepath.Join(dir, "events")
	out, err := exec.Command("go", "build", "-o", bin, "./go").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./go: %v\n%s", err, out)
	}
	return bin, nil
})

func goCommand(t *testing.T) []string {
	t.Helper()
	bin, err := goBuild()
	if err != nil {
		t.Fatal(err)
	}
	return []string{bin}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if goBuildDir != "" {
		os.RemoveAll(goBuildDir)
	}
	os.Exit(code)
}

// pageLimit is the --limit every run uses: small, so that each feature
// takes several pages and has_more is followed.
const pageLimit = 25

func TestExamples(t *testing.T) {
	for _, lang := range languages {
		t.Run(lang.name, func(t *testing.T) {
			t.Parallel()
			cmd := lang.command(t)
			srv := startServer(t)
			proxy := newFaultProxy(t, srv.URL)
			dir := t.TempDir()
			state := filepath.Join(dir, "state.json")

			// Run 1, with no state: every event the server holds, once.
			want := srv.Held(t)
			if len(want) == 0 {
				t.Fatal("the server holds no events to fetch")
			}
			env := []string{"OP_EVENTS_TOKEN=" + srv.Token, "OP_EVENTS_URL=" + proxy.URL}
			res := runExample(t, cmd, state, env...)
			res.wantExit(t, 0)
			checkUUIDs(t, "run 1", res.uuids(t), want)
			if got := proxy.count(); got <= 3 {
				t.Errorf("run 1 made %d event requests, want more than one page per feature (limit %d)", got, pageLimit)
			}
			checkState(t, state)
			t.Logf("run 1: %d events in %d event requests", len(want), proxy.count())

			// Run 2, from the saved state: exactly the events added since.
			added := srv.Add(t, 3)
			res = runExample(t, cmd, state, env...)
			res.wantExit(t, 0)
			checkUUIDs(t, "run 2", res.uuids(t), added)

			// A fresh run through faults: 429 on one request, 500 on a later
			// one. The example must retry each and lose or repeat nothing.
			proxy.inject(map[int]int{2: http.StatusTooManyRequests, 4: http.StatusInternalServerError})
			res = runExample(t, cmd, filepath.Join(dir, "fault-state.json"), env...)
			res.wantExit(t, 0)
			checkUUIDs(t, "fault run", res.uuids(t), srv.Held(t))
			proxy.checkRetries(t)
		})
	}
}

// TestExamplesFailClearly checks that a rejected token (401) and a rejected
// cursor (400) stop each example with exit status 1 and a message naming
// the status, without retrying.
func TestExamplesFailClearly(t *testing.T) {
	srv := startServer(t)
	for _, lang := range languages {
		t.Run(lang.name, func(t *testing.T) {
			t.Parallel()
			cmd := lang.command(t)
			dir := t.TempDir()

			res := runExample(t, cmd, filepath.Join(dir, "state.json"), "OP_EVENTS_TOKEN=not.a.token", "OP_EVENTS_URL="+srv.URL)
			res.wantExit(t, 1)
			res.wantStderr(t, "401")

			bad := filepath.Join(dir, "bad.json")
			if err := os.WriteFile(bad, []byte(`{"auditevents":"bm90IGEgY3Vyc29y","itemusages":"bm90IGEgY3Vyc29y","signinattempts":"bm90IGEgY3Vyc29y"}`), 0o600); err != nil {
				t.Fatal(err)
			}
			res = runExample(t, cmd, bad, "OP_EVENTS_TOKEN="+srv.Token, "OP_EVENTS_URL="+srv.URL)
			res.wantExit(t, 1)
			res.wantStderr(t, "400")
			if len(res.stdout) != 0 {
				t.Errorf("stdout = %q, want nothing after a 400", res.stdout)
			}
		})
	}
}

// TestExamplesFindServerInToken runs each example with no OP_EVENTS_URL,
// as a user of 1Password would: the example must find the server at
// https:// + the token's aud[0], here a Logbook serving HTTPS, and print
// every event once.
func TestExamplesFindServerInToken(t *testing.T) {
	srv, ca := startTLSServer(t)
	want := srv.Held(t)
	for _, lang := range languages {
		t.Run(lang.name, func(t *testing.T) {
			t.Parallel()
			cmd, env := lang.trust(lang.command(t), ca)
			res := runExample(t, cmd, filepath.Join(t.TempDir(), "state.json"), append(env, "OP_EVENTS_TOKEN="+srv.Token)...)
			res.wantExit(t, 0)
			checkUUIDs(t, "run without OP_EVENTS_URL", res.uuids(t), want)
		})
	}
}

// result is what one run of an example left behind.
type result struct {
	cmd            string
	exit           int
	stdout, stderr []byte
}

// runExample runs the example once with state as OP_EVENTS_STATE and env
// (the token, the URL) added to its environment, as a user would, and
// waits for it to exit.
func runExample(t *testing.T, cmd []string, state string, env ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, cmd[0], append(cmd[1:], "--limit", fmt.Sprint(pageLimit), "--start-time", startTime())...)
	c.Dir = filepath.Dir(state)
	c.Env = append(append(environ(), "OP_EVENTS_STATE="+state), env...)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	res := result{cmd: strings.Join(c.Args, " "), stdout: stdout.Bytes(), stderr: stderr.Bytes()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		res.exit = exit.ExitCode()
	default:
		t.Fatalf("%s: %v\nstderr:\n%s", res.cmd, err, res.stderr)
	}
	return res
}

// startTime is what every run passes as --start-time: far enough back to
// cover every demo event (the server clamps it to its retention).
func startTime() string {
	return time.Now().UTC().Add(-365 * 24 * time.Hour).Format(time.RFC3339)
}

// environ is the test's environment without any OP_EVENTS_* variable, so
// that a developer's own settings cannot leak into a run.
func environ() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "OP_EVENTS_") })
}

func (r result) wantExit(t *testing.T, want int) {
	t.Helper()
	if r.exit != want {
		t.Fatalf("%s: exit status = %d, want %d\nstderr:\n%s", r.cmd, r.exit, want, r.stderr)
	}
}

func (r result) wantStderr(t *testing.T, substr string) {
	t.Helper()
	if !bytes.Contains(r.stderr, []byte(substr)) {
		t.Errorf("%s: stderr does not mention %q:\n%s", r.cmd, substr, r.stderr)
	}
}

// uuids parses stdout as one JSON event per line and returns their uuids in
// the order printed.
func (r result) uuids(t *testing.T) []string {
	t.Helper()
	var ids []string
	for i, line := range bytes.Split(bytes.TrimSuffix(r.stdout, []byte("\n")), []byte("\n")) {
		if len(line) == 0 && len(r.stdout) == 0 {
			break
		}
		var ev struct {
			UUID string `json:"uuid"`
		}
		if err := json.Unmarshal(line, &ev); err != nil || ev.UUID == "" {
			t.Fatalf("%s: stdout line %d is not a JSON event with a uuid: %q (%v)", r.cmd, i+1, line, err)
		}
		ids = append(ids, ev.UUID)
	}
	return ids
}

// checkUUIDs reports duplicates in got, and any difference between the set
// of got and want.
func checkUUIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("%s printed %s %d times, want once", what, id, n)
		}
	}
	got = slices.Compact(slices.Sorted(slices.Values(got)))
	want = slices.Sorted(slices.Values(want))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s printed the wrong events (-want +got):\n%s", what, diff)
	}
}

// checkState checks that the state file is a JSON object holding a
// non-empty cursor for every feature, written private to the user.
func checkState(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("state file: %v", err)
	}
	var state map[string]string
	if err := json.Unmarshal(data, &state); err != nil {
		t.Fatalf("state file is not a JSON object of strings: %v\n%s", err, data)
	}
	for _, f := range []string{"auditevents", "itemusages", "signinattempts"} {
		if state[f] == "" {
			t.Errorf("state file has no cursor for %s: %s", f, data)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("state file mode = %v, want no access for group or others", perm)
	}
}

// faultProxy is a reverse proxy in front of a real server that answers
// chosen event requests itself with an error status, and records every
// request so that the test can check how the client retried.
type faultProxy struct {
	URL string

	mu     sync.Mutex
	faults map[int]int // number of the event request (from 1) → status to answer
	posts  int
	log    []proxied
}

// proxied is one event request as the proxy saw it.
type proxied struct {
	n      int
	path   string
	body   string
	status int // injected status, or 0 when forwarded
	at     time.Time
}

func newFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			rp.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		p.mu.Lock()
		p.posts++
		rec := proxied{n: p.posts, path: r.URL.Path, body: string(body), status: p.faults[p.posts], at: time.Now()}
		p.log = append(p.log, rec)
		p.mu.Unlock()
		switch rec.status {
		case 0:
			rp.ServeHTTP(w, r)
		case http.StatusTooManyRequests:
			w.Header().Set("Retry-After", "1")
			fallthrough
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rec.status)
			fmt.Fprintf(w, `{"Error":{"Message":%q}}`, http.StatusText(rec.status))
		}
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// inject starts a new count of event requests and sets which of them get
// an error status.
func (p *faultProxy) inject(faults map[int]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults, p.posts, p.log = faults, 0, nil
}

// count returns how many event requests came through since the last inject.
func (p *faultProxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.posts
}

// checkRetries checks that every injected fault was followed by the same
// request again (same endpoint, same body: nothing skipped), and that
// after a 429 the client waited at least the Retry-After second.
func (p *faultProxy) checkRetries(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	injected := 0
	for i, rec := range p.log {
		if rec.status == 0 {
			continue
		}
		injected++
		if i+1 >= len(p.log) {
			t.Errorf("request %d got %d and was never retried", rec.n, rec.status)
			continue
		}
		next := p.log[i+1]
		if next.path != rec.path || next.body != rec.body {
			t.Errorf("after %d on request %d (%s %s), next request = %s %s, want the same again", rec.status, rec.n, rec.path, rec.body, next.path, next.body)
		}
		// Allow for timers that fire a little early.
		if waited := next.at.Sub(rec.at); rec.status == http.StatusTooManyRequests && waited < 900*time.Millisecond {
			t.Errorf("retried %v after a 429 with Retry-After: 1, want at least 1s", waited)
		}
	}
	if want := len(p.faults); injected != want {
		t.Errorf("injected %d faults, want %d (the run made only %d event requests)", injected, want, p.posts)
	}
}
