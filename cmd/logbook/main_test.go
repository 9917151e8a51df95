package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildLogbook builds the binary once per test into a temporary directory.
func buildLogbook(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "logbook")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSimulateLiveStopsOnSignal runs `simulate --live --out -` as a user
// would, at the highest --rate the flag accepts, the one simulate -h shows
// and others between, reads the first event within a bounded wait, then sends SIGINT
// (and SIGTERM) and requires the documented exit: status 0 and a summary.
func TestSimulateLiveStopsOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildLogbook(t)
	for _, tc := range []struct {
		rate string
		sig  syscall.Signal
		// live: signal once it generates in real time, not while it
		// catches up on the last hour
		live bool
	}{
		{"600/min", syscall.SIGINT, false}, // the most --rate accepts
		{"600/min", syscall.SIGINT, true},
		{"10/s", syscall.SIGTERM, true}, // the same, in another unit
		{"300/min", syscall.SIGINT, false},
		{"120/min", syscall.SIGINT, true}, // the example in simulate -h
		{"30/min", syscall.SIGTERM, true},
	} {
		name := tc.rate + "/" + tc.sig.String()
		if tc.live {
			name += "/live"
		}
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(bin, "simulate", "--live", "--rate", tc.rate, "--out", "-")
			cmd.Env = append(os.Environ(), "LOGBOOK_DATA="+t.TempDir())
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			errPipe, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			began := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			lines, errLines := scanLines(stdout), scanLines(errPipe)
			var stderr []string
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("simulate exited before its first event")
				}
				var rec struct {
					Kind  string          `json:"kind"`
					Event json.RawMessage `json:"event"`
				}
				if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Kind == "" {
					t.Fatalf("first line %q: %v", line, err)
				}
				t.Logf("first event after %v", time.Since(began).Round(time.Millisecond))
			case <-time.After(30 * time.Second): // a failure bound, not synchronisation
				t.Fatalf("no event within 30s at --rate %s", tc.rate)
			}
			var rest []string
			for tc.live {
				select {
				case line := <-lines:
					rest = append(rest, line)
					continue
				case line, ok := <-errLines:
					if !ok {
						t.Fatalf("stderr closed before live generation:\n%s", strings.Join(stderr, "\n"))
					}
					stderr = append(stderr, line)
					if !strings.Contains(line, "generating live") {
						continue
					}
				case <-time.After(30 * time.Second): // a failure bound
					t.Fatalf("not generating live within 30s:\n%s", strings.Join(stderr, "\n"))
				}
				break
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			for line := range lines { // ends when stdout closes at exit
				rest = append(rest, line)
			}
			for line := range errLines {
				stderr = append(stderr, line)
			}
			err = waitExit(t, cmd, tc.sig)
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Fatalf("exit status %d after %v, want 0; stderr:\n%s", ee.ExitCode(), tc.sig, strings.Join(stderr, "\n"))
			} else if err != nil {
				t.Fatal(err)
			}
			if len(rest) == 0 || !strings.HasPrefix(rest[len(rest)-1], "simulated ") {
				t.Errorf("last line = %q, want the summary", rest[len(rest)-1:])
			}
		})
	}
}

// scanLines sends r's lines on the channel it returns, closed at EOF.
func scanLines(r io.Reader) <-chan string {
	ch := make(chan string, 1000)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}

// TestServeStopsOnSignal starts `serve` on a free port, waits for its
// banner, sends SIGINT and requires a clean stop: exit status 0.
func TestServeStopsOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildLogbook(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			data := t.TempDir()
			p := startServe(t, bin, data, "--data", data)
			p.signal(sig)
			if status, _ := p.wait(); status != 0 {
				t.Fatalf("serve after %v: exit status %d\n%s", sig, status, strings.Join(p.stderr, "\n"))
			}
		})
	}
}

// TestBackfillInterruptedExits130: a signal stops an unfinished backfill
// within a simulated hour, with exit status 130 and one line saying so.
func TestBackfillInterruptedExits130(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildLogbook(t)
	cmd := exec.Command(bin, "simulate", "--backfill", "3650d", "--out", "-")
	cmd.Env = append(os.Environ(), "LOGBOOK_DATA="+t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	first := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		first <- sc.Scan()
		for sc.Scan() { // drain until exit
		}
	}()
	select {
	case ok := <-first:
		if !ok {
			t.Fatalf("no output: %s", stderr.String())
		}
	case <-time.After(30 * time.Second): // a failure bound
		t.Fatal("no event within 30s")
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = waitExit(t, cmd, syscall.SIGINT)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want status 130; stderr:\n%s", err, stderr.String())
	}
	if got := stderr.String(); got != "logbook: interrupted before the command finished\n" {
		t.Errorf("stderr = %q, want the one line saying it was interrupted", got)
	}
}

// waitExit waits for cmd, signalled with sig, to exit and returns what
// Wait returned; 30 s is a failure bound, not synchronisation.
func waitExit(t *testing.T, cmd *exec.Cmd, sig os.Signal) error {
	t.Helper()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return waitChan(t, fmt.Sprintf("exit after %v", sig), exited)
}
