package deploy

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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

// TestUnitExecStart: the unit's ExecStart, run by a freshly built binary
// with the example configuration deploy/logbook.yaml in place of
// /etc/logbook/logbook.yaml and a temporary directory for /var/lib/logbook,
// is accepted: serve --print-config shows the configuration it would run
// with and exits 0, so every flag the unit passes exists and the example
// file is one the unit can start on.
func TestUnitExecStart(t *testing.T) {
	const example = "logbook.yaml"
	raw, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	execStart := unitKeys(t, string(raw))["ExecStart"]
	if len(execStart) != 1 {
		t.Fatalf("%s: ExecStart = %q, want one", unitFile, execStart)
	}
	args := strings.Fields(execStart[0])
	config, err := filepath.Abs(example)
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	for i, a := range args {
		switch a {
		case "/etc/logbook/logbook.yaml":
			args[i] = config
		case "/var/lib/logbook":
			args[i] = data
		}
	}
	if !slices.Contains(args, config) || !slices.Contains(args, data) {
		t.Fatalf("%s: ExecStart %q does not name /etc/logbook/logbook.yaml and /var/lib/logbook", unitFile, execStart[0])
	}
	bin := buildLogbook(t)
	cmd := exec.Command(bin, append(args[1:], "--print-config")...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LOGBOOK_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q --print-config: %v\n%s", bin, args[1:], err, out)
	}
	if !strings.Contains(string(out), "data: "+data) || !strings.Contains(string(out), example) {
		t.Errorf("--print-config does not show --data %s and the file %s:\n%s", data, config, out)
	}
	if entries, _ := os.ReadDir(data); len(entries) > 0 {
		t.Errorf("--print-config wrote into the data directory: %v", entries)
	}
}
