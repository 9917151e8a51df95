package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
)

// startServe runs `logbook serve args...` in-process and returns the URL
// from its banner and a stop that cancels it like SIGTERM.
func startServe(t *testing.T, args ...string) (url string, stop func() error) {
	t.Helper()
	re := regexp.MustCompile(`serving the Events API at (\S+)`)
	out, stop := serveUntil(t, re, args...)
	return re.FindStringSubmatch(out)[1], stop
}

// TestServeFirstRunTLS: on an empty data directory serve makes the demo
// (token file 0600), serves HTTPS from a local CA, and a client that finds
// the server from the token's aud and trusts ca.pem reads every stream;
// cancelling stops it cleanly.
func TestServeFirstRunTLS(t *testing.T) {
	data := t.TempDir()
	url, stop := startServe(t, "--data", data, "--listen", "127.0.0.1:0", "--tls")
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("URL = %s, want https://127.0.0.1:PORT", url)
	}
	for _, f := range []string{"demo.token", "logbook.db", "ca-key.pem", "server-key.pem", "public-url"} {
		fi, err := os.Stat(filepath.Join(data, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	raw, err := os.ReadFile(filepath.Join(data, "demo.token"))
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(raw))
	c, err := client.New("", tok, client.WithRootCAFile(filepath.Join(data, "ca.pem")))
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL() != url {
		t.Errorf("client base URL from aud = %s, want %s", c.BaseURL(), url)
	}
	ctx := context.Background()
	in, err := c.Introspect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Features) != 3 {
		t.Errorf("demo token features = %v", in.Features)
	}
	for _, f := range events.AllFeatures {
		p, err := c.RawPage(ctx, f, client.FromReset(events.ResetCursor{Limit: 10, StartTime: ptrTime(time.Now().Add(-30 * 24 * time.Hour))}))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) == 0 {
			t.Errorf("demo has no %s", f)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("serve returned %v after cancellation, want nil", err)
	}

	// A second start on the same directory, on another port, keeps the
	// data, the public URL and so the token: --listen does not change
	// the aud, and the banner's URL is where the server listens (13.7).
	url2, stop2 := startServe(t, "--data", data, "--listen", "127.0.0.1:0", "--tls")
	if url2 == url {
		t.Fatalf("second start on the same port %s", url2)
	}
	if got, _ := readPublicURLs(data); got != url {
		t.Errorf("public URL after a restart on another port = %s, want %s", got, url)
	}
	c2, err := client.New(url2, tok, client.WithRootCAFile(filepath.Join(data, "ca.pem")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Introspect(ctx); err != nil {
		t.Errorf("demo token on the restarted server: %v", err)
	}
	if err := stop2(); err != nil {
		t.Error(err)
	}
}

func TestServeFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--tls-cert", "x.pem"},
		{"--tls", "--tls-cert", "x.pem", "--tls-key", "y.pem"},
		{"--public-url", "ftp://x"},
		{"--retention", "1m"},
		{"--log-level", "loud"},
		{"stray"},
	} {
		err := Main(context.Background(), append([]string{"serve", "--data", t.TempDir()}, args...), Env{})
		if _, ok := err.(*UsageError); !ok {
			t.Errorf("serve %v: error %v, want a usage error", args, err)
		}
	}
}

func ptrTime(t time.Time) *time.Time { return &t }
