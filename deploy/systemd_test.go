package deploy

import (
	"bufio"
	"context"
	"errors"
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

const unitFile = "systemd/logbook.service"

// buildLogbook builds cmd/logbook into a temporary directory, as a release
// build does (CGO_ENABLED=0), and returns the binary's path.
func buildLogbook(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "logbook")
	// -trimpath and CGO_ENABLED=0 as make release: the two share compiled
	// packages in the build cache.
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/logbook")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// verifyUnit runs systemd-analyze verify on unit, saved as logbook.service
// in a temporary directory, and returns what it reported: its output, and
// its exit status when not zero. verify exits 0 after warnings such as an
// unknown key or a value it cannot parse (it ignores the line, as systemd
// would), so any output is a problem.
func verifyUnit(t *testing.T, analyze, unit string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "logbook.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", path)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_COLOR=0", "SYSTEMD_PAGER=")
	out, err := cmd.CombinedOutput()
	problems := strings.TrimSpace(string(out))
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		problems += "\n(" + ee.Error() + ")"
	case err != nil:
		t.Fatalf("systemd-analyze verify: %v", err)
	}
	return strings.TrimSpace(problems)
}

// TestUnitVerifies: systemd-analyze verify accepts the unit, with ExecStart
// pointing at a freshly built binary (verify checks that it exists and is
// executable), without a warning; and it does report the mistakes this
// test exists to catch, so a silent verify means something.
func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testenv.Unavailable(t, "no systemd-analyze on this machine (apt-get install systemd)")
	}
	raw, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	const exec = "ExecStart=/usr/local/bin/logbook "
	if n := strings.Count(string(raw), exec); n != 1 {
		t.Fatalf("%s has %d lines starting %q, want 1", unitFile, n, exec)
	}
	bin := buildLogbook(t)
	unit := strings.Replace(string(raw), exec, "ExecStart="+bin+" ", 1)
	if got := verifyUnit(t, analyze, unit); got != "" {
		t.Errorf("systemd-analyze verify %s reported:\n%s", unitFile, got)
	}

	for _, c := range []struct {
		name, old, new, want string
	}{
		{"misspelt key", "\nProtectSystem=strict\n", "\nProtectSytem=strict\n", "Unknown key"},
		{"bad time", "\nTimeoutStopSec=45s\n", "\nTimeoutStopSec=forty-five\n", "Failed to parse"},
		{"no binary", "ExecStart=" + bin + " ", "ExecStart=" + bin + ".missing ", "not executable"},
		{"bad system call group", "SystemCallFilter=@system-service", "SystemCallFilter=@system-servce", "@system-servce"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(unit, c.old) {
				t.Fatalf("the unit has no %q to break", c.old)
			}
			got := verifyUnit(t, analyze, strings.Replace(unit, c.old, c.new, 1))
			if !strings.Contains(got, c.want) {
				t.Errorf("verify of a unit with %q reported %q, want it to say %q", c.new, got, c.want)
			}
		})
	}
}

// unitKeys returns the [Service] settings of a unit file: key to values,
// in order (a key may be given more than once).
func unitKeys(t *testing.T, text string) map[string][]string {
	t.Helper()
	keys := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "", strings.HasPrefix(line, "#"), strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = line
		case section == "[Service]":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: line %q is not key=value", unitFile, line)
			}
			keys[k] = append(keys[k], v)
		}
	}
	return keys
}

// TestUnitHardening: the unit keeps its user, state directory, stop
// behaviour and hardening, so that none is dropped without this test
// being changed too.
func TestUnitHardening(t *testing.T) {
	raw, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	keys := unitKeys(t, string(raw))
	for _, want := range []struct{ key, value string }{
		{"User", "logbook"},
		{"Group", "logbook"},
		{"StateDirectory", "logbook"},
		{"StateDirectoryMode", "0700"},
		{"UMask", "0077"},
		{"Restart", "on-failure"},
		{"KillSignal", "SIGTERM"},
		{"NoNewPrivileges", "yes"},
		{"CapabilityBoundingSet", ""},
		{"ProtectSystem", "strict"},
		{"ProtectHome", "yes"},
		{"PrivateTmp", "yes"},
		{"PrivateDevices", "yes"},
		{"DevicePolicy", "closed"},
		{"PrivateMounts", "yes"},
		{"ProtectKernelTunables", "yes"},
		{"ProtectKernelModules", "yes"},
		{"ProtectKernelLogs", "yes"},
		{"ProtectControlGroups", "yes"},
		{"ProtectClock", "yes"},
		{"ProtectHostname", "yes"},
		{"ProtectProc", "invisible"},
		{"RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"},
		{"RestrictNamespaces", "yes"},
		{"RestrictRealtime", "yes"},
		{"RestrictSUIDSGID", "yes"},
		{"RemoveIPC", "yes"},
		{"LockPersonality", "yes"},
		{"MemoryDenyWriteExecute", "yes"},
		{"SystemCallArchitectures", "native"},
		{"SystemCallFilter", "@system-service"},
	} {
		got := keys[want.key]
		found := false
		for _, v := range got {
			found = found || v == want.value
		}
		if !found {
			t.Errorf("%s: %s = %q, want one of them %q", unitFile, want.key, got, want.value)
		}
	}
	for _, k := range []string{"DynamicUser", "PrivateNetwork"} {
		if v, ok := keys[k]; ok {
			t.Errorf("%s sets %s=%v: the unit runs as the user logbook and serves the network", unitFile, k, v)
		}
	}
	for _, v := range keys["AmbientCapabilities"] {
		if v != "" {
			t.Errorf("%s: AmbientCapabilities=%s; it is an optional drop-in (docs/install.md), not the default", unitFile, v)
		}
	}
	if got := keys["TimeoutStopSec"]; len(got) != 1 {
		t.Errorf("%s: TimeoutStopSec = %q, want one bound on the stop", unitFile, got)
	}
	execStart := keys["ExecStart"]
	if len(execStart) != 1 || !strings.HasPrefix(execStart[0], "/usr/local/bin/logbook serve ") ||
		!strings.Contains(execStart[0]+" ", " --data /var/lib/logbook ") {
		t.Errorf("%s: ExecStart = %q, want /usr/local/bin/logbook serve --data /var/lib/logbook …", unitFile, execStart)
	}
}

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
