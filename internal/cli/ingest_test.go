package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logbookhq/logbook/internal/cli"
)

func runCLI(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := cli.Main(context.Background(), args, cli.Env{Getenv: func(string) string { return "" },
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb})
	return out.String(), errb.String(), err
}

// runWithData runs the command args on the data directory data and
// returns its standard output and error, together.
func runWithData(t *testing.T, data string, args ...string) (string, error) {
	t.Helper()
	if args[0] == "ingest" { // flags before the files
		args = append([]string{"ingest", "--data", data}, args[1:]...)
	} else {
		args = append(args, "--data", data)
	}
	out, errs, err := runCLI(t, "", args...)
	return out + errs, err
}

// TestIngestCommands: ingest-key create prints a key once; ingest loads a
// simulator file (envelope lines) and skips it the second time; a bad line
// is reported with file, line and field; scorecard prints a token's card.
func TestIngestCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	mustRun := func(args ...string) string {
		t.Helper()
		out, err := runWithData(t, data, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return out
	}
	mustRun("account", "create", "--name", "Acme", "--owner-email", "owner@acme.test")
	key := strings.TrimSpace(mustRun("ingest-key", "create", "--name", "pipeline"))
	if !strings.HasPrefix(strings.Fields(key)[0], "lbi_") {
		t.Errorf("ingest-key create printed %q", key)
	}
	file := filepath.Join(dir, "week.ndjson")
	mustRun("simulate", "--account", "Acme", "--seed", "3", "--start", "2025-05-05T00:00:00Z", "--backfill", "2d", "--users", "10", "--out", file)
	out := mustRun("ingest", file)
	if !strings.Contains(out, " 0 already stored") || strings.Contains(out, ": 0 new events") {
		t.Errorf("first ingest: %s", out)
	}
	out = mustRun("ingest", file)
	if !strings.Contains(out, ": 0 new events") {
		t.Errorf("second ingest should find only duplicates: %s", out)
	}

	bad := filepath.Join(dir, "bad.ndjson")
	b, _ := os.ReadFile(file)
	lines := strings.SplitN(string(b), "\n", 4)
	lines[2] = strings.Replace(lines[2], `"timestamp":"`, `"timestamp":"x`, 1)
	_ = os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o600)
	_, _, err := runCLI(t, "", "ingest", "--data", data, bad)
	if err == nil || !strings.Contains(err.Error(), "bad.ndjson: line 3: timestamp: ") {
		t.Errorf("bad file: %v", err)
	}
	if _, _, err := runCLI(t, "", "ingest", "--data", data, "--kind", "logins", file); err == nil || !strings.Contains(err.Error(), "--kind") {
		t.Errorf("bad kind: %v", err)
	}

	mustRun("integration", "create", "--name", "SIEM")
	mustRun("token", "issue", "--name", "splunk")
	out = mustRun("scorecard", "--token-name", "splunk")
	if !strings.Contains(out, "auditevents") || !strings.Contains(out, "Clean: no replays") {
		t.Errorf("scorecard: %s", out)
	}
	if _, _, err := runCLI(t, "", "scorecard", "--data", data, "--token-name", "nope"); err == nil || !strings.Contains(err.Error(), `no token named "nope"`) {
		t.Errorf("unknown token: %v", err)
	}
}

// TestServeScenarioFlag: a bad scenario stops serve before it starts, with
// the file and the YAML path in the message.
func TestServeScenarioFlag(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(file, []byte("steps:\n  - status_429: {retry_after: soon}\n"), 0o600)
	_, _, err := runCLI(t, "", "serve", "--data", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0", "--scenario", file)
	if err == nil || !strings.Contains(err.Error(), "--scenario "+file+": steps[0].status_429.retry_after:") {
		t.Errorf("serve with a bad scenario: %v", err)
	}
	for _, args := range [][]string{{"--rate-per-minute", "-1"}, {"--spin-window", "0s"}, {"--ingest-max-body", "10"}} {
		_, _, err := runCLI(t, "", append([]string{"serve", "--data", filepath.Join(dir, "data")}, args...)...)
		if err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("serve %v: %v, want an error naming the flag", args, err)
		}
	}
}
