package deploy

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/cli"
	"github.com/logbookhq/logbook/internal/testenv"
)

// The kernel's form of MemoryDenyWriteExecute (Linux 6.3+, prctl(2)). It
// lasts for the process's life and is inherited across fork and execve;
// systemd 257 and later use it for the directive, earlier ones a seccomp
// filter with the same effect.
const (
	prSetMDWE             = 65
	prGetMDWE             = 66
	prMDWERefuseExecGain  = 1
	mdweChildEnv          = "LOGBOOK_TEST_MDWE_CHILD"
	mdweChildServedMarker = "mdwe child: served under PR_SET_MDWE:"
)

func prctl(op, arg uintptr) (uintptr, error) {
	r, _, errno := syscall.Syscall6(syscall.SYS_PRCTL, op, arg, 0, 0, 0, 0)
	if errno != 0 {
		return r, errno
	}
	return r, nil
}

// TestUnitMemoryDenyWriteExecute: the unit's MemoryDenyWriteExecute=yes
// does not break the server. A copy of this test binary turns the
// restriction on for itself, checks that it holds (a writable and
// executable mapping is refused), then runs serve: it creates the SQLite
// database, seeds the demo's events and serves every stream to the demo
// token. SQLite is the part at risk (see the comment in the unit).
func TestUnitMemoryDenyWriteExecute(t *testing.T) {
	if os.Getenv(mdweChildEnv) == "1" {
		mdweChild(t)
		return
	}
	if _, err := prctl(prGetMDWE, 0); err != nil {
		testenv.Unavailable(t, "the kernel has no PR_GET_MDWE (Linux 6.3 or later): %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestUnitMemoryDenyWriteExecute$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), mdweChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child under PR_SET_MDWE failed: %v\n%s", err, out)
	}
	m := regexp.MustCompile(regexp.QuoteMeta(mdweChildServedMarker) + ` .*`).Find(out)
	if m == nil {
		t.Fatalf("the child did not say what it served:\n%s", out)
	}
	t.Log(string(m))
}

// mdweChild is TestUnitMemoryDenyWriteExecute in the child process.
func mdweChild(t *testing.T) {
	if _, err := prctl(prSetMDWE, prMDWERefuseExecGain); err != nil {
		t.Fatalf("prctl(PR_SET_MDWE): %v", err)
	}
	if got, err := prctl(prGetMDWE, 0); err != nil || got&prMDWERefuseExecGain == 0 {
		t.Fatalf("prctl(PR_GET_MDWE) = %d, %v; want the refuse-exec-gain bit", got, err)
	}
	if b, err := syscall.Mmap(-1, 0, os.Getpagesize(), syscall.PROT_READ|syscall.PROT_WRITE|syscall.PROT_EXEC,
		syscall.MAP_ANON|syscall.MAP_PRIVATE); err == nil {
		syscall.Munmap(b)
		t.Fatal("a writable and executable mapping was allowed: the restriction is not in force")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	data := t.TempDir()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := cli.Main(ctx, []string{"serve", "--data", data, "--listen", "127.0.0.1:0"},
			cli.Env{Getenv: func(string) string { return "" }, Stderr: pw})
		pw.Close()
		done <- err
	}()
	re := regexp.MustCompile(`serving the Events API at (\S+)`)
	var url string
	var log strings.Builder
	sc := bufio.NewScanner(pr)
	for url == "" && sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("serve ended before serving (%v):\n%s", <-done, log.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	raw, err := os.ReadFile(filepath.Join(data, "demo.token"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(url, strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, f := range events.AllFeatures {
		req := client.FromReset(events.ResetCursor{Limit: 1000, StartTime: ptr(time.Now().Add(-60 * 24 * time.Hour))})
		n := 0
		for {
			p, err := c.RawPage(ctx, f, req)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			n += len(p.Items)
			if !p.HasMore {
				break
			}
			req = client.FromCursor(p.Cursor)
		}
		if n == 0 {
			t.Errorf("the demo served no %s", f)
		}
		served = append(served, string(f)+"="+strconv.Itoa(n))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve returned %v after cancellation, want nil", err)
	}
	t.Logf("%s %s", mdweChildServedMarker, strings.Join(served, " "))
}

func ptr[T any](v T) *T { return &v }
