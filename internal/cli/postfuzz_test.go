package cli_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/internal/cli"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
)

// TestPostRoutesAlwaysAnswer builds the whole server as serve does, on a
// real socket, and posts to every POST route (Events API v1 and v2, ingest,
// admin API, console) the truncations of a valid body and a few thousand
// bodies made from it by deterministic mutations: truncation, random
// bytes, huge numbers, deep nesting, bad UTF-8, splices. Every request
// must get a status line; a dropped connection (a panic in a handler, say)
// fails the test.
func TestPostRoutesAlwaysAnswer(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	must := func(stdin string, args ...string) string {
		t.Helper()
		out, errs, err := runCLI(t, stdin, append(args, "--data", data)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errs)
		}
		return strings.TrimSpace(out)
	}
	must("correct horse battery staple\n", "account", "create", "--name", "Acme", "--owner-email", "owner@acme.test", "--password-stdin")
	st := sqlitetest.Open(t, filepath.Join(data, "logbook.db"))
	srv, err := cli.StartServer(context.Background(), cli.ServerOptions{Store: st, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := os.WriteFile(filepath.Join(data, "public-url"), []byte(srv.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	must("", "integration", "create", "--name", "SIEM")
	tokFile := filepath.Join(dir, "t.tok")
	must("", "token", "issue", "--name", "t", "--save", tokFile)
	tok, _ := os.ReadFile(tokFile)
	adminKey := strings.Fields(must("", "admin-key", "create", "--name", "ops", "--as", "owner@acme.test"))[0]
	ingestKey := strings.Fields(must("", "ingest-key", "create", "--name", "p"))[0]

	ev := `{"uuid":"CCCCCCCCCCCCCCCCCCCCCCCCCC","timestamp":"2025-07-28T19:00:00Z","used_version":3,"vault_uuid":"jaqxqf5qylslqiitnduawrndc5","item_uuid":"rqtd557fn2husnstp5nc66w2xa","user":{"uuid":"BBBBBBBBBBBBBBBBBBBBBBBBBB","name":"Ada","email":"ada@example.com"},"client":{"app_name":"1Password CLI","app_version":"","platform_name":"","platform_version":"","os_name":"","os_version":"","ip_address":"2001:db8::1"},"action":"reveal"}`
	type route struct {
		path, bearer, contentType, seed string
	}
	bearerTok := strings.TrimSpace(string(tok))
	var routes []route
	for _, f := range []string{"signinattempts", "itemusages", "auditevents"} {
		for _, v := range []string{"v1", "v2"} {
			routes = append(routes, route{"/api/" + v + "/" + f, bearerTok, "application/json", `{"limit":10,"start_time":"2025-01-01T00:00:00Z"}`})
		}
		routes = append(routes, route{"/api/v2/ingest/" + f, ingestKey, "application/json", "[" + ev + "," + ev + "]"})
	}
	for _, r := range []struct{ path, seed string }{
		{"/users", `{"email":"x@acme.test","name":"X","role":"member"}`},
		{"/admin-keys", `{"name":"k"}`},
		{"/integrations", `{"name":"I","siem":"splunk"}`},
		{"/integrations/NOSUCHINTEGRATIONAAAAAAAAA/tokens", `{"name":"t","features":["itemusages"],"expires_in":"90d"}`},
		{"/tokens/NOSUCHTOKENAAAAAAAAAAAAAAA/revoke", `{}`},
		{"/signing-keys/rotate", `{}`},
	} {
		routes = append(routes, route{"/admin/api/v1" + r.path, adminKey, "application/json", r.seed})
	}
	for _, p := range []string{"/signin", "/signout", "/integrations", "/integrations/X/tokens", "/integrations/X/tokens/Y/revoke"} {
		routes = append(routes, route{"/console" + p, "", "application/x-www-form-urlencoded", "email=nobody%40acme.test&password=wrong&name=I"})
	}

	n := 1500
	if testing.Short() {
		n = 100
	}
	client := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, rt := range routes {
		t.Run(strings.TrimPrefix(rt.path, "/"), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(rt.path))))
			seed := []byte(rt.seed)
			var bodies [][]byte
			for i := 0; i <= len(seed); i++ {
				bodies = append(bodies, seed[:i])
			}
			for len(bodies) < n {
				bodies = append(bodies, mutateBody(rng, seed))
			}
			for i, b := range bodies {
				req, _ := http.NewRequest("POST", srv.URL+rt.path, bytes.NewReader(b))
				req.Header.Set("Content-Type", rt.contentType)
				if rt.bearer != "" {
					req.Header.Set("Authorization", "Bearer "+rt.bearer)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatalf("body %d %q: no status line: %v", i, abbrev(b), err)
				}
				resp.Body.Close()
				if resp.StatusCode >= 500 {
					t.Errorf("body %d %q: %d", i, abbrev(b), resp.StatusCode)
				}
			}
		})
	}
}

func abbrev(b []byte) string {
	if len(b) > 120 {
		return string(b[:60]) + "…" + string(b[len(b)-60:])
	}
	return string(b)
}

// mutateBody returns seed changed in one to three deterministic ways.
func mutateBody(rng *rand.Rand, seed []byte) []byte {
	b := append([]byte(nil), seed...)
	for range 1 + rng.IntN(3) {
		pos := 0
		if len(b) > 0 {
			pos = rng.IntN(len(b) + 1)
		}
		ins := func(s []byte) { b = append(b[:pos:pos], append(s, b[pos:]...)...) }
		switch rng.IntN(9) {
		case 0: // truncate
			b = b[:pos]
		case 1: // random bytes
			r := make([]byte, 1+rng.IntN(16))
			for i := range r {
				r[i] = byte(rng.IntN(256))
			}
			ins(r)
		case 2: // a huge number
			ins([]byte([]string{"1e999999", "-99999999999999999999999999999", "18446744073709551616", "0.0000000000000000000001e-400"}[rng.IntN(4)]))
		case 3: // deep nesting
			d := 1 + rng.IntN(10000)
			ins([]byte(strings.Repeat("[", d) + strings.Repeat("]", rng.IntN(d+1))))
		case 4: // bad UTF-8
			ins([]byte{[]byte{0xff, 0xc0, 0xed, 0xf4}[rng.IntN(4)], 0xa0, 0x80})
		case 5: // a byte changed
			if len(b) > 0 {
				const noise = "{}[],:\"\\0-ex \n"
				b[rng.IntN(len(b))] = noise[rng.IntN(len(noise))]
			}
		case 6: // a piece repeated
			if len(b) > 0 {
				i := rng.IntN(len(b))
				j := i + rng.IntN(len(b)-i+1)
				ins(append([]byte(nil), b[i:j]...))
			}
		case 7: // a long string
			ins([]byte(`"` + strings.Repeat("a", rng.IntN(100000)) + `"`))
		case 8: // structural noise
			ins([]byte([]string{"null", "{}", "[]", `{"":`, `"\u0000"`, `"\ud800"`, ",,", "\x00", "%zz", "&=&="}[rng.IntN(10)]))
		}
	}
	return b
}
