package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
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
	}{
		{"600/min", syscall.SIGINT}, // the most --rate accepts
		{"10/s", syscall.SIGTERM},   // the same, in another unit
		{"300/min", syscall.SIGINT},
		{"120/min", syscall.SIGINT}, // the example in simulate -h
		{"30/min", syscall.SIGTERM},
	} {
		t.Run(tc.rate+"/"+tc.sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "simulate", "--live", "--rate", tc.rate, "--out", "-")
			cmd.Env = append(os.Environ(), "LOGBOOK_DATA="+t.TempDir())
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			began := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			lines := make(chan string)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
			}()
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("simulate exited before its first event: %s", stderr.String())
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
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			var rest []string
			for line := range lines { // ends when stdout closes at exit
				rest = append(rest, line)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					t.Fatalf("exit status %d after %v, want 0; stderr:\n%s", ee.ExitCode(), tc.sig, stderr.String())
				} else if err != nil {
					t.Fatal(err)
				}
			case <-time.After(30 * time.Second): // a failure bound
				t.Fatalf("still running 30s after %v", tc.sig)
			}
			if len(rest) == 0 || !strings.HasPrefix(rest[len(rest)-1], "simulated ") {
				t.Errorf("last line = %q, want the summary", rest[len(rest)-1:])
			}
		})
	}
}
