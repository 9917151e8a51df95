package cli_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/internal/cli"
	"github.com/logbookhq/logbook/internal/testenv"
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
			testenv.Unavailable(t, "this machine's resolver cannot say a host does not exist (%v)", err)
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

// TestForwardOnceInterrupted: a signal that stops forward --once before
// every stream drained is not a success: the run returns context.Canceled
// (exit status 130 from main), so cron does not take an unfinished run for
// a finished one. The sink here is an HTTP endpoint that never answers.
func TestForwardOnceInterrupted(t *testing.T) {
	b := setupForward(t)
	b.appendAt(t, b.base, 5)
	reached := make(chan struct{}, 1)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case reached <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	b.rewriteConfig(t, "    type: file\n    path: ./events.ndjson", "    type: http\n    url: "+hang.URL)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- mainCtx(ctx, t, []string{"forward", "--config", b.cfg, "--once"}) }()
	select {
	case <-reached:
	case err := <-done:
		t.Fatalf("forward --once ended before delivering: %v", err)
	case <-time.After(20 * time.Second): // a failure bound
		t.Fatal("the sink got no request within 20s")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted forward --once returned %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second): // a failure bound
		t.Fatal("forward --once still running 20s after its context ended")
	}
}
