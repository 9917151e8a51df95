package cli

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/logbookhq/logbook/internal/roundtrip"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/testenv"
)

// TestVersion: logbook version keeps the release stamp on its first line
// and adds the Go version, module and VCS lines; --json has the same
// values as one object.
func TestVersion(t *testing.T) {
	old := Version
	Version = "v9.8.7"
	t.Cleanup(func() { Version = old })

	var out bytes.Buffer
	if err := Main(t.Context(), []string{"version"}, Env{Stdout: &out, Getenv: func(string) string { return "" }}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 || lines[0] != "logbook v9.8.7" {
		t.Fatalf("logbook version printed\n%s\nwant 5 lines, the first %q", out.String(), "logbook v9.8.7")
	}
	for i, prefix := range []string{"go: " + runtime.Version(), "module: github.com/logbookhq/logbook ", "revision: ", "time: "} {
		if !strings.HasPrefix(lines[i+1], prefix) {
			t.Errorf("line %d = %q, want it to start with %q", i+2, lines[i+1], prefix)
		}
	}

	out.Reset()
	if err := Main(t.Context(), []string{"version", "--json"}, Env{Stdout: &out, Getenv: func(string) string { return "" }}); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("version --json is not a JSON object: %v\n%s", err, out.String())
	}
	b := readBuildInfo()
	want := map[string]any{"version": "v9.8.7", "go": runtime.Version(), "module": "github.com/logbookhq/logbook",
		"module_version": b.ModuleVersion, "revision": b.Revision, "time": b.Time, "modified": b.Modified}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("version --json (-want +got):\n%s", diff)
	}
	if !strings.Contains(lines[2], b.ModuleVersion) || !strings.HasPrefix(lines[3], "revision: "+b.Revision) || lines[4] != "time: "+b.Time {
		t.Errorf("text and JSON disagree:\n%s\n%+v", strings.Join(lines, "\n"), b)
	}
}

// readyz fetches url+"/readyz" and returns the status and decoded body.
func readyz(t *testing.T, url string) (int, readiness) {
	t.Helper()
	status, body := roundtrip.Call(t, "GET", url+"/readyz", "", "")
	var r readiness
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("GET /readyz: body is not JSON: %v", err)
	}
	return status, r
}

// TestReadyz: /readyz is 200 on a migrated store, 503 naming the migration
// when one is not recorded as applied, and 503 when the store is closed;
// /healthz stays 200 throughout. On SQLite and PostgreSQL.
func TestReadyz(t *testing.T) {
	ms, err := sqlite.Migrations() // the two stores keep one numbering
	if err != nil {
		t.Fatal(err)
	}
	last := ms[len(ms)-1]
	forget := `DELETE FROM schema_migrations WHERE version = ` + strconv.Itoa(last.Version)
	for _, b := range []struct {
		name   string
		flags  func(t *testing.T) storeFlags
		forget func(t *testing.T, sf storeFlags)
	}{
		{"sqlite", func(t *testing.T) storeFlags { return storeFlags{data: t.TempDir()} }, func(t *testing.T, sf storeFlags) {
			raw, err := sql.Open("sqlite3", "file:"+filepath.Join(sf.data, dbFile))
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if _, err := raw.Exec(forget); err != nil {
				t.Fatal(err)
			}
		}},
		{"postgres", func(t *testing.T) storeFlags { return storeFlags{data: t.TempDir(), db: testenv.PostgresSchema(t)} }, func(t *testing.T, sf storeFlags) {
			conn, err := pgx.Connect(t.Context(), sf.db)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(t.Context())
			if _, err := conn.Exec(t.Context(), forget); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			sf := b.flags(t)
			st, err := sf.open(ctx)
			if err != nil {
				t.Fatal(err)
			}
			srv, err := StartServer(ctx, ServerOptions{Store: st, Listen: "127.0.0.1:0"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close(); st.Close() })
			healthy := func(when string) {
				t.Helper()
				if code, _ := roundtrip.Call(t, "GET", srv.URL+"/healthz", "", ""); code != 200 {
					t.Errorf("%s: GET /healthz = %d, want 200", when, code)
				}
			}

			if code, r := readyz(t, srv.URL); code != 200 || r != (readiness{Status: "ready"}) {
				t.Errorf("migrated store: /readyz = %d %+v, want 200 ready", code, r)
			}
			healthy("migrated store")

			// Forget the newest migration, as on a database an older binary
			// migrated: it is pending.
			b.forget(t, sf)
			code, r := readyz(t, srv.URL)
			if code != 503 || r.Status != "not ready" || !strings.Contains(r.Reason, "migrations pending: "+last.Name) {
				t.Errorf("pending %s: /readyz = %d %+v, want 503 naming it", last.Name, code, r)
			}
			healthy("pending migration")

			st.Close()
			if code, r := readyz(t, srv.URL); code != 503 || r != (readiness{Status: "not ready", Reason: "store does not answer"}) {
				t.Errorf("closed store: /readyz = %d %+v, want 503 store does not answer", code, r)
			}
			healthy("closed store")
		})
	}
}

// servingProcess is `logbook serve` running in-process.
type servingProcess struct {
	stderr *io.PipeReader // what it writes to its standard error
	cancel context.CancelFunc
	done   chan error // what Main returns
}

// serveInProcess runs `logbook serve args...` in-process until cancelled.
func serveInProcess(args ...string) *servingProcess {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	p := &servingProcess{stderr: pr, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := Main(ctx, append([]string{"serve"}, args...), Env{Getenv: func(string) string { return "" }, Stdout: io.Discard, Stderr: pw})
		pw.Close()
		p.done <- err
	}()
	return p
}

// stop cancels p like SIGTERM and returns what serve returned; t fails
// when serve takes more than 30s to stop.
func (p *servingProcess) stop(t *testing.T) error {
	t.Helper()
	p.cancel()
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of cancellation")
		return nil
	}
}

// serveLog runs logbook serve with args until stop and returns its URL
// and a stop function giving every line serve wrote to stderr.
func serveLog(t *testing.T, args ...string) (url string, stop func() []string) {
	t.Helper()
	p := serveInProcess(args...)
	var (
		mu    sync.Mutex
		lines []string
	)
	ready := make(chan string, 1)
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(p.stderr)
		sc.Buffer(nil, 1<<20)
		urlRE := regexp.MustCompile(`serving the Events API at (\S+)`)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
			if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m[1]
			}
		}
	}()
	select {
	case url = <-ready:
	case err := <-p.done:
		p.cancel()
		t.Fatalf("serve stopped before serving: %v", err)
	}
	stopped := false
	stop = func() []string {
		if !stopped {
			stopped = true
			if err := p.stop(t); err != nil {
				t.Errorf("serve: %v", err)
			}
			<-read
		}
		mu.Lock()
		defer mu.Unlock()
		return lines
	}
	t.Cleanup(func() { stop() })
	return url, stop
}

// requestLines returns the access log lines among JSON log lines.
func requestLines(t *testing.T, lines []string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range lines {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

// TestAccessLog: serve --access-log logs one line per request with method,
// route pattern, status, bytes, duration and the account of an
// authenticated request, and never the token, cursor or query string;
// without the flag there is no such line.
func TestAccessLog(t *testing.T) {
	data := t.TempDir()
	url, stop := serveLog(t, "--data", data, "--listen", "127.0.0.1:0", "--log-format", "json")
	if code, _ := roundtrip.Call(t, "POST", url+"/api/v2/auditevents", "", `{"limit":1}`); code != 401 {
		t.Fatalf("unauthenticated POST = %d, want 401", code)
	}
	if got := requestLines(t, stop()); len(got) != 0 {
		t.Errorf("without --access-log: %d request lines, want none: %v", len(got), got)
	}
	raw, err := os.ReadFile(filepath.Join(data, "demo.token"))
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(raw))

	url, stop = serveLog(t, "--data", data, "--listen", "127.0.0.1:0", "--log-format", "json", "--access-log")
	code, body := roundtrip.Call(t, "POST", url+"/api/v2/auditevents", tok, `{"limit":2,"start_time":"2020-01-01T00:00:00Z"}`)
	if code != 200 {
		t.Fatalf("first page = %d %s", code, body)
	}
	var page struct {
		Cursor string `json:"cursor"`
	}
	if err := json.Unmarshal(body, &page); err != nil || page.Cursor == "" {
		t.Fatalf("first page has no cursor: %v %s", err, body)
	}
	code, body2 := roundtrip.Call(t, "POST", url+"/api/v2/auditevents", tok, `{"cursor":"`+page.Cursor+`"}`)
	if code != 200 {
		t.Fatalf("second page = %d %s", code, body2)
	}
	if code, _ := roundtrip.Call(t, "POST", url+"/api/v2/auditevents?token=querysecret", "not-"+tok, `{"cursor":"`+page.Cursor+`"}`); code != 401 {
		t.Fatalf("wrong token = %d, want 401", code)
	}
	roundtrip.Call(t, "GET", url+"/no/such/path?q=querysecret", "", "")
	_, introspection := roundtrip.Call(t, "GET", url+"/api/v2/auth/introspect", tok, "")
	var intro struct {
		AccountUUID string `json:"account_uuid"`
	}
	if err := json.Unmarshal(introspection, &intro); err != nil || intro.AccountUUID == "" {
		t.Fatalf("introspection: %v %+v", err, intro)
	}
	lines := stop()

	got := requestLines(t, lines)
	type entry struct {
		Method, Route string
		Status        float64
		Bytes         float64
		Account       string
	}
	var gotEntries []entry
	for _, m := range got {
		for _, k := range []string{"method", "route", "status", "bytes", "duration_ms"} {
			if _, ok := m[k]; !ok {
				t.Errorf("request line lacks %q: %v", k, m)
			}
		}
		if d, _ := m["duration_ms"].(float64); d < 0 {
			t.Errorf("duration_ms = %v, want >= 0", m["duration_ms"])
		}
		acc, _ := m["account"].(string)
		e := entry{Method: m["method"].(string), Route: m["route"].(string), Status: m["status"].(float64), Account: acc}
		e.Bytes, _ = m["bytes"].(float64)
		gotEntries = append(gotEntries, e)
	}
	want := []entry{
		{"POST", "POST /api/v2/auditevents", 200, float64(len(body)), intro.AccountUUID},
		{"POST", "POST /api/v2/auditevents", 200, float64(len(body2)), intro.AccountUUID},
		{"POST", "POST /api/v2/auditevents", 401, 0, ""},
		{"GET", "none", 404, 0, ""},
		{"GET", "GET /api/v2/auth/introspect", 200, 0, intro.AccountUUID},
	}
	// 404 and introspection bodies are not ours to size here.
	for i := range gotEntries {
		if i < len(want) && (want[i].Bytes == 0) {
			gotEntries[i].Bytes = 0
		}
	}
	if diff := cmp.Diff(want, gotEntries); diff != "" {
		t.Errorf("access log (-want +got):\n%s", diff)
	}
	all := strings.Join(lines, "\n")
	for name, secret := range map[string]string{"token": tok, "cursor": page.Cursor, "query string": "querysecret"} {
		if strings.Contains(all, secret) {
			t.Errorf("the log holds the %s", name)
		}
	}
}
