package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/demo"
	"github.com/logbookhq/logbook/internal/roundtrip"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
)

// TestAdminScripts drives the admin commands (account, user, integration,
// token, keys, admin-key) in-process through the txtar scripts in
// testdata/admin, against a real server on 127.0.0.1:0 over the scripts'
// SQLite data directory ($WORK/data).
//
// Commands the scripts have besides testscript's own:
//
//	logbook [-stdin FILE] ARGS...   cli.Main; on failure stderr gets what
//	                                ReportError writes, and "(exit 2)" for
//	                                usage errors
//	startserver                     serve $WORK/data; sets $URL
//	events TOKENFILE PATH STATUS    POST a reset to PATH with the token in
//	                                TOKENFILE; fail unless STATUS
//	admin KEYFILE METHOD PATH STATUS [BODY]
//	                                call the admin API; the body goes to stdout
//	audit TOKENFILE                 print the v2 audit events, one per line:
//	                                action object_type aux_info actor_email actor_type
//	                                (aux_info of expire/sa, a time, shows as RFC3339)
func TestAdminScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "admin"),
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"logbook":     scriptLogbook,
			"startserver": scriptStartServer,
			"events":      scriptEvents,
			"admin":       scriptAdmin,
			"audit":       scriptAudit,
			"post":        scriptPost,
		},
	})
}

func scriptLogbook(ts *testscript.TestScript, neg bool, args []string) {
	stdin := ""
	if len(args) >= 2 && args[0] == "-stdin" {
		stdin = ts.ReadFile(args[1])
		args = args[2:]
	}
	env := Env{
		Getenv: func(k string) string {
			if k == "LOGBOOK_DATA" {
				return ts.MkAbs("data")
			}
			return ts.Getenv(k)
		},
		Stdin:  strings.NewReader(stdin),
		Stdout: ts.Stdout(),
		Stderr: ts.Stderr(),
	}
	err := Main(context.Background(), args, env)
	if ReportError(ts.Stderr(), err) == 2 {
		fmt.Fprintln(ts.Stderr(), "(exit 2)")
	}
	switch {
	case err != nil && !neg:
		ts.Fatalf("logbook %s: %v", strings.Join(args, " "), err)
	case err == nil && neg:
		ts.Fatalf("logbook %s succeeded unexpectedly", strings.Join(args, " "))
	}
}

func scriptStartServer(ts *testscript.TestScript, neg bool, args []string) {
	data := ts.MkAbs("data")
	st, err := sqlite.Open(context.Background(), filepath.Join(data, dbFile), sqlite.Options{})
	ts.Check(err)
	srv, err := StartServer(context.Background(), ServerOptions{Store: st, Listen: "127.0.0.1:0"})
	ts.Check(err)
	ts.Defer(func() { srv.Close(); st.Close() })
	ts.Check(writeFileAtomic(filepath.Join(data, "public-url"), []byte(srv.URL+"\n"), 0o600))
	ts.Setenv("URL", srv.URL)
}

func scriptDo(ts *testscript.TestScript, bearerFile, method, path, body string) (int, []byte) {
	bearer := strings.TrimSpace(ts.ReadFile(bearerFile))
	req, err := http.NewRequest(method, ts.Getenv("URL")+path, strings.NewReader(body))
	ts.Check(err)
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	ts.Check(err)
	return resp.StatusCode, raw
}

func scriptEvents(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: events TOKENFILE PATH STATUS")
	}
	status, raw := scriptDo(ts, args[0], "POST", args[1], `{"limit":100,"start_time":"2000-01-01T00:00:00Z"}`)
	if fmt.Sprint(status) != args[2] {
		ts.Fatalf("POST %s = %d %s, want %s", args[1], status, raw, args[2])
	}
}

// scriptPost posts the contents of BODYFILE to PATH with the bearer in
// KEYFILE and checks the status: post KEYFILE PATH STATUS BODYFILE.
func scriptPost(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 4 {
		ts.Fatalf("usage: post KEYFILE PATH STATUS BODYFILE")
	}
	status, raw := scriptDo(ts, args[0], "POST", args[1], ts.ReadFile(args[3]))
	if fmt.Sprint(status) != args[2] {
		ts.Fatalf("POST %s = %d %s, want %s", args[1], status, raw, args[2])
	}
}

func scriptAdmin(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 4 {
		ts.Fatalf("usage: admin KEYFILE METHOD PATH STATUS [BODY]")
	}
	body := ""
	if len(args) > 4 {
		body = args[4]
	}
	status, raw := scriptDo(ts, args[0], args[1], "/admin/api/v1"+args[2], body)
	if fmt.Sprint(status) != args[3] {
		ts.Fatalf("%s %s = %d %s, want %s", args[1], args[2], status, raw, args[3])
	}
	_, _ = ts.Stdout().Write(raw)
}

func scriptAudit(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: audit TOKENFILE")
	}
	status, raw := scriptDo(ts, args[0], "POST", "/api/v2/auditevents", `{"limit":1000,"start_time":"2000-01-01T00:00:00Z"}`)
	if status != 200 {
		ts.Fatalf("auditevents = %d %s", status, raw)
	}
	var page events.Page[events.AuditEvent]
	ts.Check(json.Unmarshal(raw, &page))
	var b bytes.Buffer
	for _, e := range page.Items {
		email := ""
		if e.ActorDetails != nil {
			email = e.ActorDetails.Email
		}
		if e.Session == nil || e.Session.IP == "" || e.AccountUUID == "" || e.ActorUUID == "" {
			ts.Fatalf("audit event %s lacks session, account or actor", e.UUID)
		}
		aux := e.AuxInfo
		if e.Action == "expire" {
			// The expiry time: check its form, print a placeholder.
			if _, err := time.Parse(time.RFC3339, aux); err != nil {
				ts.Fatalf("expire/sa aux_info %q is not an RFC 3339 time", aux)
			}
			aux = "RFC3339"
		}
		fmt.Fprintf(&b, "%s %s %q %s %s\n", e.Action, e.ObjectType, aux, email, e.ActorType)
	}
	_, _ = ts.Stdout().Write(b.Bytes())
}

// TestTokenSaveMode checks that --save writes the token with mode 0600.
func TestTokenSaveMode(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	env := Env{Getenv: func(k string) string { return map[string]string{"LOGBOOK_DATA": data}[k] }}
	var out bytes.Buffer
	if err := Main(t.Context(), []string{"account", "create", "--name", "Acme", "--owner-email", "ops@acme.test"}, env); err != nil {
		t.Fatal(err)
	}
	env.Stdout = &out
	file := filepath.Join(t.TempDir(), "tok")
	if err := Main(t.Context(), []string{"token", "issue", "--name", "ci", "--save", file}, env); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("--save mode = %v, want 0600", got)
	}
	saved, _ := os.ReadFile(file)
	if got, want := strings.TrimSpace(string(saved)), strings.TrimSpace(out.String()); got != want || strings.Count(want, ".") != 2 {
		t.Errorf("saved %q, printed %q; want the same JWT", got, want)
	}
}

// TestDemoAdmin checks that the demo's owner, integration and token, made
// through the admin domain, leave create/sa and create/satoken in the
// demo account's audit events, readable with the demo token.
func TestDemoAdmin(t *testing.T) {
	ctx := t.Context()
	st := sqlitetest.New(t)
	srv, err := StartServer(ctx, ServerOptions{Store: st, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	acct, raw, err := demo.Create(ctx, srv.Admin, "Demo", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	status, body := roundtrip.Call(t, "POST", srv.URL+"/api/v2/auditevents", raw, `{"limit":10,"start_time":"2000-01-01T00:00:00Z"}`)
	var page events.Page[events.AuditEvent]
	if err := json.Unmarshal(body, &page); err != nil || status != 200 {
		t.Fatalf("auditevents = %d, %v", status, err)
	}
	var got []string
	for _, e := range page.Items {
		if e.AccountUUID != acct.UUID || e.ActorDetails == nil || e.ActorDetails.Email != "demo@example.com" {
			t.Errorf("event %s: account %s, actor %+v; want the demo account and owner", e.UUID, e.AccountUUID, e.ActorDetails)
		}
		got = append(got, e.Action+"/"+e.ObjectType+" "+e.AuxInfo)
	}
	if want := []string{"create/sa D", "create/satoken demo"}; !slices.Equal(got, want) {
		t.Errorf("demo audit events = %q, want %q", got, want)
	}
}
