package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/logbookhq/logbook/internal/roundtrip"
)

// serveProc is a running `logbook serve`.
type serveProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	lines  <-chan string
	stderr []string
}

// startServe starts bin serve on data with a free port and waits for its
// banner.
func startServe(t *testing.T, bin, data string, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--no-demo"}, args...)...)
	cmd.Env = append(os.Environ(), "LOGBOOK_DATA="+data)
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	p := &serveProc{t: t, cmd: cmd, lines: scanLines(errPipe)}
	line := p.waitFor("serving the Events API at ")
	p.url = regexp.MustCompile(`at (\S+)`).FindStringSubmatch(line)[1]
	return p
}

// waitFor reads serve's stderr until a line containing text, and returns
// it; 30 s is a failure bound, not synchronisation.
func (p *serveProc) waitFor(text string) string {
	p.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("serve's stderr ended before %q:\n%s", text, strings.Join(p.stderr, "\n"))
			}
			p.stderr = append(p.stderr, line)
			if strings.Contains(line, text) {
				return line
			}
		case <-timeout:
			p.t.Fatalf("no %q from serve within 30s:\n%s", text, strings.Join(p.stderr, "\n"))
		}
	}
}

// wait reads the rest of stderr and returns the exit status and when the
// process ended (its stderr closed).
func (p *serveProc) wait() (int, time.Time) {
	p.t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if ok {
				p.stderr = append(p.stderr, line)
				continue
			}
			ended := time.Now()
			err := p.cmd.Wait()
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode(), ended
			}
			if err != nil {
				p.t.Fatal(err)
			}
			return 0, ended
		case <-timeout:
			p.t.Fatalf("serve still running 60s after the signal:\n%s", strings.Join(p.stderr, "\n"))
		}
	}
}

// signal sends sig and returns the time just before it was sent: the
// server's shutdown clock starts after that, so durations measured from it
// are never shorter than the server's own.
func (p *serveProc) signal(sig os.Signal) time.Time {
	p.t.Helper()
	sent := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
	return sent
}

// ingestReply is what a POST to the ingestion API came back with.
type ingestReply struct {
	status int
	body   string
	err    error
}

// streamIngest POSTs a body written through the returned pipe to the
// ingestion API with Expect: 100-continue. The channel continued is
// closed when the server's handler has started reading the body (the
// server sends 100 Continue on its first read), so the request is then
// in flight in the handler.
func streamIngest(t *testing.T, baseURL, key string) (body *io.PipeWriter, continued <-chan struct{}, reply <-chan ingestReply) {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", baseURL+"/api/v2/ingest/auditevents", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Expect", "100-continue")
	got := make(chan struct{})
	req = req.WithContext(httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got100Continue: func() { close(got) },
	}))
	c := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute, DisableKeepAlives: true}}
	out := make(chan ingestReply, 1)
	go func() {
		res, err := c.Do(req)
		if err != nil {
			out <- ingestReply{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		out <- ingestReply{status: res.StatusCode, body: string(b), err: err}
	}()
	t.Cleanup(func() { pw.CloseWithError(errors.New("test over")) })
	return pw, got, out
}

func waitChan[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second): // a failure bound
		t.Fatalf("no %s within 30s", what)
	}
	panic("unreachable")
}

// TestServeGracefulShutdown drives a real `logbook serve` with real
// signals. An ingest batch whose body is still arriving when SIGTERM comes
// completes with 200 and is stored, while new connections are refused,
// and serve exits 0. A batch whose body does not finish within
// --shutdown-timeout is cut off and not stored at all, and serve exits 1
// soon after the bound. An idle server exits 0 at once.
func TestServeGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildLogbook(t)
	data := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "LOGBOOK_DATA="+data)
		out, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Fatalf("logbook %v: %v\n%s", args, err, ee.Stderr)
			}
			t.Fatal(err)
		}
		return string(out)
	}
	run("account", "create", "--name", "Acme", "--owner-email", "owner@example.com")
	key := strings.TrimSpace(run("ingest-key", "create", "--name", "pipeline"))
	var audit []string
	for _, line := range strings.Split(run("simulate", "--seed", "7", "--backfill", "3d", "--out", "-"), "\n") {
		if strings.Contains(line, `"kind":"auditevents"`) {
			audit = append(audit, line)
		}
	}
	if len(audit) < 20 {
		t.Fatalf("the simulator made %d audit events, want 20", len(audit))
	}
	batch1 := strings.Join(audit[:10], "\n") + "\n"
	batch2 := strings.Join(audit[10:20], "\n") + "\n"
	const drained = "no longer accepting connections"

	t.Run("in-flight batch completes", func(t *testing.T) {
		p := startServe(t, bin, data, "--shutdown-timeout", "20s")
		body, continued, reply := streamIngest(t, p.url, key)
		waitChan(t, "100 Continue", continued)
		half := len(batch1) / 2
		if _, err := io.WriteString(body, batch1[:half]); err != nil { // returns once the client took it
			t.Fatal(err)
		}
		sent := p.signal(syscall.SIGTERM)
		p.waitFor(drained)
		u, _ := url.Parse(p.url)
		if c, err := net.DialTimeout("tcp", u.Host, 5*time.Second); err == nil {
			c.Close()
			t.Error("a new connection after SIGTERM was accepted, want it refused")
		}
		if _, err := io.WriteString(body, batch1[half:]); err != nil {
			t.Fatal(err)
		}
		body.Close()
		r := waitChan(t, "reply", reply)
		if r.err != nil || r.status != 200 || r.body != `{"accepted":10,"duplicates":0}` {
			t.Fatalf("in-flight batch after SIGTERM = %d %q %v, want 200 with 10 accepted", r.status, r.body, r.err)
		}
		code, ended := p.wait()
		if code != 0 {
			t.Errorf("exit status %d, want 0 (every request finished):\n%s", code, strings.Join(p.stderr, "\n"))
		}
		if took := ended.Sub(sent); took > 10*time.Second {
			t.Errorf("serve exited %v after SIGTERM, want soon after its last request, well before the 20s bound", took)
		}
	})

	t.Run("batch cut off at the bound", func(t *testing.T) {
		const bound = 2 * time.Second
		p := startServe(t, bin, data, "--shutdown-timeout", bound.String())
		// The batch of the first case is stored: all of it comes back as
		// duplicates.
		if status, body := roundtrip.Call(t, "POST", p.url+"/api/v2/ingest/auditevents", key, batch1); status != 200 || string(body) != `{"accepted":0,"duplicates":10}` {
			t.Fatalf("batch 1 again = %d %s, want 10 duplicates", status, body)
		}
		// By hand on a socket, to see what the server does with the
		// connection: headers, then 100 Continue once the handler reads,
		// then half the body in one chunk.
		u, _ := url.Parse(p.url)
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /api/v2/ingest/auditevents HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n", u.Host, key)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a failure bound
		br := bufio.NewReader(conn)
		if status, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(status, "HTTP/1.1 100 ") {
			t.Fatalf("first reply line %q, %v; want 100 Continue", status, err)
		}
		if blank, err := br.ReadString('\n'); err != nil || blank != "\r\n" {
			t.Fatalf("after 100 Continue: %q, %v", blank, err)
		}
		half := batch2[:len(batch2)/2]
		if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", len(half), half); err != nil {
			t.Fatal(err)
		}
		sent := p.signal(syscall.SIGTERM)
		p.waitFor(drained)
		conn.SetReadDeadline(time.Now().Add(bound + 10*time.Second))
		rest, err := io.ReadAll(br)
		closed := time.Since(sent)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the connection was still open %v after SIGTERM", closed)
		}
		if len(rest) > 0 {
			t.Errorf("the cut-off request got a reply, want the connection closed without one:\n%s", rest)
		}
		if closed < bound {
			t.Errorf("the connection was closed %v after SIGTERM, before the bound %v", closed, bound)
		}
		code, ended := p.wait()
		took := ended.Sub(sent)
		t.Logf("cut-off request: connection closed (%v) %v after SIGTERM; serve exited %d after %v", err, closed.Round(time.Millisecond), code, took.Round(time.Millisecond))
		if code != 1 {
			t.Errorf("exit status %d, want 1 (a request was cut off)", code)
		}
		if took < bound || took > bound+3*time.Second {
			t.Errorf("serve exited %v after SIGTERM, want between the bound %v and the bound + 3s", took, bound)
		}
		if last := p.stderr[len(p.stderr)-1]; !strings.Contains(last, "logbook: shutdown: the shutdown timeout (2s) passed with 1 request(s) in flight") {
			t.Errorf("last line %q, want the cut-off reported", last)
		}
	})

	t.Run("nothing of the cut batch stored", func(t *testing.T) {
		p := startServe(t, bin, data)
		if status, body := roundtrip.Call(t, "POST", p.url+"/api/v2/ingest/auditevents", key, batch2); status != 200 || string(body) != `{"accepted":10,"duplicates":0}` {
			t.Fatalf("batch 2 after it was cut off = %d %s, want all 10 accepted", status, body)
		}
		sent := p.signal(syscall.SIGINT)
		code, ended := p.wait()
		if code != 0 {
			t.Errorf("idle serve exit status %d after SIGINT, want 0:\n%s", code, strings.Join(p.stderr, "\n"))
		}
		if took := ended.Sub(sent); took > 5*time.Second {
			t.Errorf("idle serve took %v to exit", took)
		}
	})
}
