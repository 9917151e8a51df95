package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/cli"
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/servertest"
)

// minimalConfig is the configuration of issue 5, verbatim but for the
// URL of the test server.
const minimalConfig = `state_dir: ./forward-state
sources:
  - name: demo
    url: http://127.0.0.1:8080      # optional: by default https:// + the token's aud
    token_file: ./data/demo.token   # or token_env: OP_EVENTS_TOKEN
    start_time: 2020-01-01T00:00:00Z
sinks:
  - name: archive
    type: file
    path: ./events.ndjson           # one event a line, as the API returned it
`

type fwdBundle struct {
	srv  *servertest.Server
	dir  string
	cfg  string
	base time.Time
}

// setupForward starts a real server and writes the minimal configuration
// and its token file in a temporary directory.
func setupForward(t *testing.T) *fwdBundle {
	t.Helper()
	srv := servertest.Start(t, servertest.Options{})
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "demo.token"), []byte(srv.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "forward.yaml")
	doc := strings.Replace(minimalConfig, "http://127.0.0.1:8080", srv.URL, 1)
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return &fwdBundle{srv: srv, dir: dir, cfg: cfg, base: time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)}
}

// appendAt stores n audit events, one a second from at, and returns their
// uuids in order.
func (b *fwdBundle) appendAt(t *testing.T, at time.Time, n int) []string {
	t.Helper()
	var evs []any
	var ids []string
	for i := range n {
		ev := &events.AuditEvent{UUID: events.NewID(), Timestamp: at.Add(time.Duration(i) * time.Second), ActorUUID: "ACTOR0000000000000000000AB",
			Action: "join", ObjectType: "user", ObjectUUID: events.Str("OBJ00000000000000000000ABC")}
		evs = append(evs, ev)
		ids = append(ids, ev.UUID)
	}
	if got := b.srv.Append(t, evs...); got != n {
		t.Fatalf("Append stored %d, want %d", got, n)
	}
	return ids
}

// run calls cli.Main in-process and returns stdout and stderr.
func (b *fwdBundle) run(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := cli.Main(t.Context(), args, cli.Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Stderr: &stderr})
	return stdout.String(), stderr.String(), err
}

func (b *fwdBundle) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := b.run(t, nil, args...)
	if err != nil {
		t.Fatalf("logbook %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// lines returns the uuids in the events file, in order.
func (b *fwdBundle) lines(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(b.dir, "events.ndjson"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev struct{ UUID string }
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q: %v", sc.Bytes(), err)
		}
		out = append(out, ev.UUID)
	}
	return out
}

func (b *fwdBundle) cursorFile(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.dir, "forward-state", "cursors", "demo.auditevents.json"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestForwardOnceMinimalConfig: the issue's minimal configuration works as
// written; --once delivers every event and exits; a second run delivers
// only what is new.
func TestForwardOnceMinimalConfig(t *testing.T) {
	b := setupForward(t)
	first := b.appendAt(t, b.base, 50)
	b.mustRun(t, "forward", "--config", b.cfg, "--once")
	if diff := cmp.Diff(first, b.lines(t)); diff != "" {
		t.Fatalf("events file (-want +got):\n%s", diff)
	}
	second := b.appendAt(t, b.base.Add(time.Hour), 10)
	b.mustRun(t, "forward", "--config", b.cfg, "--once")
	if diff := cmp.Diff(append(first, second...), b.lines(t)); diff != "" {
		t.Errorf("after a second run (-want +got):\n%s", diff)
	}
	info, err := os.Stat(filepath.Join(b.dir, "forward-state", "cursors", "demo.auditevents.json"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("cursor file mode %v, want 0600", info.Mode().Perm())
	}
}

// TestForwardDryRun fetches one page per stream, prints what it saw, and
// writes nothing.
func TestForwardDryRun(t *testing.T) {
	b := setupForward(t)
	b.appendAt(t, b.base, 20)
	out := b.mustRun(t, "forward", "--config", b.cfg, "--dry-run")
	for _, want := range []string{"source demo: features", "auditevents from start_time 2020-01-01T00:00:00Z: 20 events in the first page, has_more false", "nothing written"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, b.srv.Token) {
		t.Error("dry run printed the token")
	}
	if _, err := os.Stat(filepath.Join(b.dir, "events.ndjson")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run created the events file (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(b.dir, "forward-state", "cursors")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run saved cursors (%v)", err)
	}
}

func TestForwardValidate(t *testing.T) {
	b := setupForward(t)
	out := b.mustRun(t, "forward", "validate", "--config", b.cfg)
	if !strings.Contains(out, "OK (1 sources, 1 sinks)") {
		t.Errorf("validate output = %q", out)
	}

	const secret = "eyJhbGciOiJFUzI1NiJ9.secret-token-value"
	bad := `state_dir: ./s
poll_interval: soon
sources:
  - name: demo
    token_env: OP_EVENTS_TOKEN
    start_time: yesterday
  - name: other
    token_file: ./missing.token
    url: ftp://x
sinks:
  - name: archive
    type: file
  - name: hook
    type: http
    url: http://127.0.0.1:9/x
    token_env: OP_EVENTS_TOKEN
    format: xml
  - name: x
    type: splunk
`
	cfg := filepath.Join(b.dir, "bad.yaml")
	if err := os.WriteFile(cfg, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := b.run(t, map[string]string{"OP_EVENTS_TOKEN": secret}, "forward", "validate", "--config", cfg)
	if err == nil {
		t.Fatal("validate accepted a bad configuration")
	}
	msg := err.Error()
	for _, want := range []string{
		"poll_interval:",
		"sources[0].start_time:",
		"sources[1]: token_file:",
		`sources[1].url: "ftp://x": want http:// or https://`,
		"sinks[0].path: required",
		`sinks[1].format: "xml": want ndjson or json`,
		`sinks[2].type: "splunk": want one of`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("validate errors lack %q:\n%s", want, msg)
		}
	}
	for _, s := range []string{msg, stdout, stderr} {
		if strings.Contains(s, "secret-token-value") {
			t.Errorf("validate printed the secret:\n%s", s)
		}
	}
}

// TestForwardCursor: show, export, rewind (the next run repeats the
// events after the time) and import (restores the exported position).
func TestForwardCursor(t *testing.T) {
	b := setupForward(t)
	ids := b.appendAt(t, b.base, 30)
	b.mustRun(t, "forward", "--config", b.cfg, "--once")

	out := b.mustRun(t, "forward", "cursor", "show", "--config", b.cfg)
	if !strings.Contains(out, "SOURCE") || !regexpMatch(t, `demo\s+auditevents\s+\S+\s+`+b.base.Add(29*time.Second).Format(time.RFC3339)+`\s+30\s+cursor `, out) {
		t.Errorf("cursor show:\n%s", out)
	}
	exported := b.mustRun(t, "forward", "cursor", "export", "--config", b.cfg)
	var states []forward.State
	if err := json.Unmarshal([]byte(exported), &states); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, exported)
	}
	var audit *forward.State
	for i := range states {
		if states[i].Feature == events.AuditEvents {
			audit = &states[i]
		}
	}
	if audit == nil || audit.Cursor == "" || audit.Events != 30 {
		t.Fatalf("exported states %+v lack the auditevents cursor", states)
	}

	// Rewind to the 21st event: the next run delivers the last 10 again.
	at := b.base.Add(20 * time.Second)
	out = b.mustRun(t, "forward", "cursor", "rewind", "--config", b.cfg, "--to", at.Format(time.RFC3339), "--feature", "auditevents")
	if !strings.Contains(out, "demo auditevents: rewound") {
		t.Errorf("rewind output %q", out)
	}
	var st forward.State
	if err := json.Unmarshal(b.cursorFile(t), &st); err != nil {
		t.Fatal(err)
	}
	if st.Cursor != "" || st.StartTime == nil || !st.StartTime.Equal(at) {
		t.Errorf("after rewind the state is %+v, want no cursor and start_time %v", st, at)
	}
	b.mustRun(t, "forward", "--config", b.cfg, "--once")
	if diff := cmp.Diff(append(append([]string(nil), ids...), ids[20:]...), b.lines(t)); diff != "" {
		t.Errorf("after rewind and a run (-want +got):\n%s", diff)
	}

	// Import the export: back at the end of the first run; new events
	// after it are delivered once.
	exportFile := filepath.Join(b.dir, "cursors.json")
	if err := os.WriteFile(exportFile, []byte(exported), 0o600); err != nil {
		t.Fatal(err)
	}
	out = b.mustRun(t, "forward", "cursor", "import", "--config", b.cfg, "--file", exportFile)
	if !strings.Contains(out, "demo auditevents: imported") {
		t.Errorf("import output %q", out)
	}
	var imported forward.State
	if err := json.Unmarshal(b.cursorFile(t), &imported); err != nil {
		t.Fatal(err)
	}
	if imported.Cursor != audit.Cursor {
		t.Errorf("imported cursor %q, want the exported %q", imported.Cursor, audit.Cursor)
	}
	more := b.appendAt(t, b.base.Add(time.Hour), 5)
	before := len(b.lines(t))
	b.mustRun(t, "forward", "--config", b.cfg, "--once")
	if diff := cmp.Diff(more, b.lines(t)[before:]); diff != "" {
		t.Errorf("after import and a run (-want +got):\n%s", diff)
	}
}

// TestForwardBackfill: a backfill delivers the window [from, to) and
// leaves the live cursor untouched.
func TestForwardBackfill(t *testing.T) {
	b := setupForward(t)
	ids := b.appendAt(t, b.base, 40)
	b.mustRun(t, "forward", "--config", b.cfg, "--once")
	live := b.cursorFile(t)
	before := budgetRequests(t, b)

	from, to := b.base.Add(10*time.Second), b.base.Add(20*time.Second)
	b.mustRun(t, "forward", "backfill", "--config", b.cfg, "--source", "demo", "--feature", "auditevents",
		"--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339))
	if diff := cmp.Diff(append(append([]string(nil), ids...), ids[10:20]...), b.lines(t)); diff != "" {
		t.Errorf("events after the backfill (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(string(live), string(b.cursorFile(t))); diff != "" {
		t.Errorf("the backfill moved the live cursor (-before +after):\n%s", diff)
	}
	if after := budgetRequests(t, b); after <= before || before == 0 {
		t.Errorf("the shared budget logged %d requests after the live run and %d after the backfill; want the backfill's requests added to the live ones", before, after)
	}
	// Running the same job again finds it done: nothing more.
	b.mustRun(t, "forward", "backfill", "--config", b.cfg, "--source", "demo", "--feature", "auditevents",
		"--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339))
	if got := len(b.lines(t)); got != 50 {
		t.Errorf("after re-running the finished job the file has %d lines, want 50", got)
	}
	_, _, err := b.run(t, nil, "forward", "backfill", "--config", b.cfg, "--source", "nope", "--from", from.Format(time.RFC3339))
	if err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("backfill of an unknown source: %v", err)
	}
}

// TestForwardRereadsTokenFile: a continuous forwarder started with a
// revoked token pauses the source (it does not exit: an operator may fix
// the token while it runs); once the operator writes a new token into
// token_file, it resumes without a restart. (Under --once a revoked token
// ends the run: TestForwardOncePermanentErrors.)
func TestForwardRereadsTokenFile(t *testing.T) {
	b := setupForward(t)
	doc, err := os.ReadFile(b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	doc = append([]byte("poll_interval: 10ms\npaused_retry: 20ms\n"), doc...)
	if err := os.WriteFile(b.cfg, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	first := b.appendAt(t, b.base, 25)
	b.mustRun(t, "forward", "--config", b.cfg, "--once")
	revokeAll(t, b.srv)
	second := b.appendAt(t, b.base.Add(time.Hour), 25)

	logs := &syncBuffer{changed: make(chan struct{}, 1)}
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- cli.Main(ctx, []string{"forward", "--config", b.cfg}, cli.Env{Getenv: func(string) string { return "" }, Stdout: &bytes.Buffer{}, Stderr: logs})
	}()
	logs.waitFor(t, "source paused")
	if got := len(b.lines(t)); got != len(first) {
		t.Fatalf("%d events in the file with the token revoked, want the %d of the first run", got, len(first))
	}
	fresh := b.srv.IssueToken(t, 0, events.AllFeatures...)
	tmp := filepath.Join(b.dir, "data", ".demo.token.new")
	if err := os.WriteFile(tmp, []byte(fresh+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(b.dir, "data", "demo.token")); err != nil {
		t.Fatal(err)
	}
	logs.waitFor(t, "source resumed")
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("forward: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("forward did not stop when cancelled:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "credential changed") {
		t.Errorf("logs lack %q", "credential changed")
	}
	if s := logs.String(); strings.Contains(s, b.srv.Token) || strings.Contains(s, fresh) {
		t.Error("the logs contain a token")
	}
	// Whatever the resumed run delivered before it was stopped, a run
	// with the new token completes it, each event once.
	b.mustRun(t, "forward", "--config", b.cfg, "--once")
	if diff := cmp.Diff(append(first, second...), b.lines(t)); diff != "" {
		t.Errorf("events after the new token (-want +got):\n%s", diff)
	}
}

// budgetRequests counts the requests logged in the shared budget files of
// the state directory (8 bytes of header, 8 per request).
func budgetRequests(t *testing.T, b *fwdBundle) int64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(b.dir, "forward-state", "budget", "*.budget"))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		n += (info.Size() - 8) / 8
	}
	return n
}

func revokeAll(t *testing.T, srv *servertest.Server) {
	t.Helper()
	ctx := context.Background()
	toks, err := srv.Store.AccountTokens(ctx, srv.Account)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks {
		tok.RevokedAt = time.Now().UTC().Add(-time.Second)
		if err := srv.Store.UpdateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
}

func regexpMatch(t *testing.T, pattern, s string) bool {
	t.Helper()
	for _, line := range strings.Split(s, "\n") {
		if ok, err := regexp.MatchString(pattern, line); err != nil {
			t.Fatal(err)
		} else if ok {
			return true
		}
	}
	return false
}

// syncBuffer collects a command's stderr and signals every write.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case b.changed <- struct{}{}:
	default:
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the output contains text, re-checking at every
// write.
func (b *syncBuffer) waitFor(t *testing.T, text string) {
	t.Helper()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for !strings.Contains(b.String(), text) {
		select {
		case <-b.changed:
		case <-timeout.C:
			t.Fatalf("timed out waiting for %q in the logs:\n%s", text, b.String())
		}
	}
}

// TestForwardVerify: verify: true with the tree keys' JWKS delivers what
// the server's signed heads prove, keeps the head, and a run that meets
// an event whose stored bytes were changed exits with an error naming it,
// delivering nothing of its page.
func TestForwardVerify(t *testing.T) {
	b := setupForward(t)
	jwks, err := b.srv.Heads.PublicKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "tree.jwks"), jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	doc = bytes.Replace(doc, []byte("    start_time: 2020-01-01T00:00:00Z\n"),
		[]byte("    start_time: 2020-01-01T00:00:00Z\n    verify: true\n    tree_keys_file: ./tree.jwks\n"), 1)
	if err := os.WriteFile(b.cfg, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	sign := func() {
		if _, err := b.srv.Heads.Sign(t.Context(), b.srv.Account, events.AuditEvents); err != nil {
			t.Fatal(err)
		}
	}
	first := b.appendAt(t, b.base, 5)
	sign()
	b.mustRun(t, "forward", "--config", b.cfg, "--once")
	if diff := cmp.Diff(first, b.lines(t)); diff != "" {
		t.Fatalf("events file (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(b.dir, "forward-state", "heads", "demo.json")); err != nil {
		t.Fatalf("heads kept: %v", err)
	}

	second := b.appendAt(t, b.base.Add(time.Hour), 2)
	sign()
	b.srv.Tamper(t, events.AuditEvents, second[1], `"join"`, `"jOin"`)
	_, _, err = b.run(t, nil, "forward", "--config", b.cfg, "--once")
	want := "source demo (auditevents): integrity check failed: auditevents event " + second[1] + " (leaf 6): the bytes received are not those the server committed; "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("forward after tampering: %v, want an error starting %q", err, want)
	}
	if diff := cmp.Diff(first, b.lines(t)); diff != "" {
		t.Errorf("events file after the failed check (-want +got):\n%s", diff)
	}
}
