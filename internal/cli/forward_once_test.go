package cli_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/internal/cli"
)

// runOnceBounded runs "forward --once" with a deadline: a run that would
// retry forever is cut off and reported as such.
func (b *fwdBundle) runOnceBounded(t *testing.T, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	err := mainCtx(ctx, t, append([]string{"forward", "--config", b.cfg, "--once"}, args...))
	if ctx.Err() != nil {
		t.Fatalf("forward --once was still running after 20s (returned %v)", err)
	}
	return err
}

// TestForwardOncePermanentErrors: under --once, an error that waiting
// cannot cure ends the run at once with an error of one line saying what
// to fix, instead of retrying forever.
func TestForwardOncePermanentErrors(t *testing.T) {
	t.Run("revoked-token", func(t *testing.T) {
		b := setupForward(t)
		b.appendAt(t, b.base, 5)
		revokeAll(t, b.srv)
		err := b.runOnceBounded(t)
		checkOneLine(t, err, "source demo", "401", "token_file")
		t.Log(err)
	})
	t.Run("https-against-http", func(t *testing.T) {
		b := setupForward(t)
		b.appendAt(t, b.base, 5)
		httpsURL := strings.Replace(b.srv.URL, "http://", "https://", 1)
		b.rewriteConfig(t, b.srv.URL, httpsURL)
		err := b.runOnceBounded(t)
		checkOneLine(t, err, "source demo", "plain HTTP", "url: "+b.srv.URL)
		t.Log(err)
	})
	t.Run("unknown-host", func(t *testing.T) {
		var dns *net.DNSError
		if _, err := net.LookupHost("logbook-test.invalid"); !errors.As(err, &dns) || !dns.IsNotFound {
			t.Skipf("this machine's resolver cannot say a host does not exist (%v)", err)
		}
		b := setupForward(t)
		b.rewriteConfig(t, b.srv.URL, "http://logbook-test.invalid")
		err := b.runOnceBounded(t)
		checkOneLine(t, err, "source demo", "logbook-test.invalid", "url")
		t.Log(err)
	})
}

// TestForwardDryRunErrorPrefix: a dry run that cannot introspect says so
// once ("introspect: introspect: …" before).
func TestForwardDryRunErrorPrefix(t *testing.T) {
	b := setupForward(t)
	revokeAll(t, b.srv)
	_, _, err := b.run(t, nil, "forward", "--config", b.cfg, "--dry-run")
	if err == nil {
		t.Fatal("dry run with a revoked token succeeded")
	}
	if n := strings.Count(err.Error(), "introspect"); n > 1 {
		t.Errorf("error names introspect %d times: %v", n, err)
	}
	checkOneLine(t, err, "source demo", "401")
}

func (b *fwdBundle) rewriteConfig(t *testing.T, old, new string) {
	t.Helper()
	doc, err := os.ReadFile(b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.cfg, []byte(strings.Replace(string(doc), old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

func checkOneLine(t *testing.T, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("forward succeeded, want an error")
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error has several lines, want one:\n%s", msg)
	}
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q lacks %q", msg, w)
		}
	}
}

// mainCtx calls cli.Main in-process with ctx and no environment.
func mainCtx(ctx context.Context, t *testing.T, args []string) error {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := cli.Main(ctx, args, cli.Env{Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr})
	if testing.Verbose() {
		t.Logf("stderr:\n%s", stderr.String())
	}
	return err
}
