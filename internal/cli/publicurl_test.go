package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/logbookhq/logbook/client"
)

// bannerURL returns the URL serve's banner gives.
func bannerURL(t *testing.T, out string) string {
	t.Helper()
	m := regexp.MustCompile(`serving the Events API at (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no URL in the serve output:\n%s", out)
	}
	return m[1]
}

// introspect calls the introspection endpoint at url with tok.
func introspect(url, tok string) error {
	c, err := client.New(url, tok)
	if err != nil {
		return err
	}
	_, err = c.Introspect(context.Background())
	return err
}

// issueToken runs logbook token issue with args on data and returns the token.
func issueToken(t *testing.T, data string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := Main(t.Context(), append([]string{"token", "issue", "--data", data}, args...), Env{Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out.String())
}

// TestServePublicURL (13.7): the public URL, and so every token's aud,
// does not change with --listen; --public-url changes it, serve warns
// with the old and new URLs and the number of tokens issued before, and
// those tokens keep working; a token for an audience the server never had
// is refused.
func TestServePublicURL(t *testing.T) {
	data := t.TempDir()
	serving := regexp.MustCompile(`msg=serving`)
	out, stop := serveUntil(t, serving, "--data", data, "--listen", "127.0.0.1:0")
	first := bannerURL(t, out)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(data, "demo.token"))
	if err != nil {
		t.Fatal(err)
	}
	demo := strings.TrimSpace(string(raw))

	// Another port: same public URL, the demo token and the banner's URL work.
	out, stop = serveUntil(t, serving, "--data", data, "--listen", "127.0.0.1:0")
	url := bannerURL(t, out)
	if url == first {
		t.Fatalf("restart listens on the same URL %s", url)
	}
	if !strings.Contains(out, "Its public URL, whose host:port is its tokens' aud, stays "+first) {
		t.Errorf("restart on another port does not say the public URL stays %s:\n%s", first, out)
	}
	if strings.Contains(out, "public URL changed") {
		t.Errorf("restart on another port warns of a change:\n%s", out)
	}
	if err := introspect(url, demo); err != nil {
		t.Errorf("demo token after a restart on another port: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// --public-url changes it, with a warning; old tokens keep working.
	const next = "http://127.0.0.2:1"
	out, stop = serveUntil(t, serving, "--data", data, "--listen", "127.0.0.1:0", "--public-url", next)
	want := "level=WARN msg=\"public URL changed from " + first + " to " + next + " by --public-url: the 1 active tokens issued before keep working"
	if !strings.Contains(out, want) {
		t.Errorf("serve output lacks %q:\n%s", want, out)
	}
	url = bannerURL(t, out)
	if err := introspect(url, demo); err != nil {
		t.Errorf("token for the old public URL: %v", err)
	}
	fresh := issueToken(t, data, "--name", "fresh")
	if err := introspect(url, fresh); err != nil {
		t.Errorf("token for the new public URL: %v", err)
	}
	foreign := issueToken(t, data, "--name", "foreign", "--public-url", "http://elsewhere.test:1")
	if err := introspect(url, foreign); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("token for an audience the server never had: err %v, want a 401", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// A later start without --public-url keeps the new one, and still
	// accepts both generations of tokens.
	out, stop = serveUntil(t, serving, "--data", data, "--listen", "127.0.0.1:0")
	if strings.Contains(out, "public URL changed") {
		t.Errorf("restart without --public-url warns of a change:\n%s", out)
	}
	if cur, earlier := readPublicURLs(data); cur != next || len(earlier) != 1 || earlier[0] != first {
		t.Errorf("recorded public URLs = %s, %v; want %s, [%s]", cur, earlier, next, first)
	}
	url = bannerURL(t, out)
	for name, tok := range map[string]string{"demo": demo, "fresh": fresh} {
		if err := introspect(url, tok); err != nil {
			t.Errorf("%s token after restart: %v", name, err)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestServeNoDemoNextSteps (13.8): a first serve --no-demo prints the
// commands to run next, and running them exactly gives a working token.
func TestServeNoDemoNextSteps(t *testing.T) {
	data := filepath.Join(t.TempDir(), "d")
	out, stop := serveUntil(t, regexp.MustCompile(`msg=serving`), "--data", data, "--listen", "127.0.0.1:0", "--no-demo")
	defer stop()
	url := bannerURL(t, out)
	create := regexp.MustCompile(`(?m)^  logbook (account create --data \S+ --name NAME --owner-email EMAIL)$`).FindStringSubmatch(out)
	issue := regexp.MustCompile(`(?m)^  logbook (token issue --data \S+ --name NAME --save token.txt)$`).FindStringSubmatch(out)
	if create == nil || issue == nil {
		t.Fatalf("serve --no-demo prints no next steps:\n%s", out)
	}
	dir := t.TempDir()
	run := func(cmd string) string {
		t.Helper()
		cmd = strings.NewReplacer("NAME", "acme", "EMAIL", "ops@acme.test", "token.txt", filepath.Join(dir, "token.txt")).Replace(cmd)
		var stderr bytes.Buffer
		if err := Main(t.Context(), strings.Fields(cmd), Env{Stderr: &stderr}); err != nil {
			t.Fatalf("logbook %s: %v\n%s", cmd, err, stderr.String())
		}
		return stderr.String()
	}
	run(create[1])
	run(issue[1])
	raw, err := os.ReadFile(filepath.Join(dir, "token.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := introspect(url, strings.TrimSpace(string(raw))); err != nil {
		t.Errorf("the token made by the printed steps: %v", err)
	}
}

// TestServeDemoOnlyOnLoopback (13.8): on an address other than loopback
// the never-expiring demo token is made only with --demo, and serve says
// so.
func TestServeDemoOnlyOnLoopback(t *testing.T) {
	serving := regexp.MustCompile(`msg=serving`)
	data := t.TempDir()
	out, stop := serveUntil(t, serving, "--data", data, "--listen", "0.0.0.0:0")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, "demo.token")); err == nil {
		t.Error("demo token made on 0.0.0.0 without --demo")
	}
	if !strings.Contains(out, "No demo account: --listen 0.0.0.0:0 is not a loopback address, and the demo's token never expires. Give --demo to make it anyway.") {
		t.Errorf("serve on 0.0.0.0 does not say why there is no demo:\n%s", out)
	}
	if !strings.Contains(out, "logbook account create --data") {
		t.Errorf("serve on 0.0.0.0 without a demo prints no next steps:\n%s", out)
	}

	data = t.TempDir()
	_, stop = serveUntil(t, serving, "--data", data, "--listen", "0.0.0.0:0", "--demo")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, "demo.token")); err != nil {
		t.Errorf("--demo on 0.0.0.0: %v", err)
	}
	if err := Main(t.Context(), []string{"serve", "--data", t.TempDir(), "--demo", "--no-demo"}, Env{}); err == nil {
		t.Error("--demo --no-demo accepted")
	}
}
