package cli

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// commandPaths returns every command and subcommand, walking the command
// table and, below it, the subcommands each group's help lists (printed
// from the group's own table by dispatch).
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	var paths [][]string
	var walk func(path []string)
	walk = func(path []string) {
		paths = append(paths, path)
		out, _, _ := runMain(append(slices.Clone(path), "-h"), nil)
		m := regexp.MustCompile(`(?m)^Subcommands: (.+)$`).FindStringSubmatch(out)
		if m == nil {
			return
		}
		for _, sub := range strings.Split(m[1], ", ") {
			walk(append(slices.Clone(path), sub))
		}
	}
	for _, c := range commands() {
		walk([]string{c.name})
	}
	return paths
}

func runMain(args []string, env map[string]string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	err := Main(context.Background(), args, Env{
		Getenv: func(k string) string { return env[k] },
		Stdout: &out, Stderr: &errb,
	})
	code = ReportError(&errb, err)
	return out.String(), errb.String(), code
}

var flagLine = regexp.MustCompile(`(?m)^  (-+)([a-z0-9-]+)`)

// irrelevant are flags some commands once listed though they do not read
// them.
var irrelevant = map[string][]string{
	"keys list":             {"public-url"},
	"keys rotate":           {"public-url"},
	"admin-key create":      {"public-url"},
	"admin-key list":        {"public-url"},
	"admin-key revoke":      {"public-url"},
	"account create":        {"account", "as", "public-url"},
	"account list":          {"account", "as", "public-url"},
	"token list":            {"public-url"},
	"token revoke":          {"public-url"},
	"forward cursor show":   {"to", "source", "feature", "file"},
	"forward cursor export": {"to", "source", "feature", "file"},
	"forward cursor import": {"to", "source", "feature"},
	"forward cursor rewind": {"file"},
}

// TestHelpEveryCommand runs -h on every command and subcommand: it exits
// 0, prints usage and the flags with double-dash names on stdout and
// nothing on stderr, and lists none of the flags the command ignores.
func TestHelpEveryCommand(t *testing.T) {
	t.Parallel()
	paths := commandPaths(t)
	if len(paths) < 30 {
		t.Fatalf("found %d commands and subcommands, want the whole table: %v", len(paths), paths)
	}
	for _, path := range paths {
		name := strings.Join(path, " ")
		t.Run(name, func(t *testing.T) {
			out, errOut, code := runMain(append(slices.Clone(path), "-h"), nil)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q, want 0 and nothing", code, errOut)
			}
			if !strings.HasPrefix(out, "Usage") {
				t.Errorf("stdout starts %q, want the usage", out[:min(len(out), 40)])
			}
			listed := map[string]bool{}
			for _, m := range flagLine.FindAllStringSubmatch(out, -1) {
				if m[1] != "--" {
					t.Errorf("flag listed as %s%s, want --%s", m[1], m[2], m[2])
				}
				listed[m[2]] = true
			}
			for _, f := range irrelevant[name] {
				if listed[f] {
					t.Errorf("lists --%s, which %s does not read", f, name)
				}
			}
		})
	}
}

// TestUnknownFlagOneLine requires an unknown flag, on every command and
// subcommand, to give exactly one error line naming the command, a
// pointer to its help and exit status 2, with nothing on stdout.
func TestUnknownFlagOneLine(t *testing.T) {
	t.Parallel()
	for _, path := range commandPaths(t) {
		name := strings.Join(path, " ")
		t.Run(name, func(t *testing.T) {
			out, errOut, code := runMain(append(slices.Clone(path), "--no-such-flag"), nil)
			lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			if code != 2 || out != "" || len(lines) != 2 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2, nothing, and two lines", code, out, errOut)
			}
			if want := "logbook " + name + ": "; !strings.HasPrefix(lines[0], want) || !strings.Contains(lines[0], "--no-such-flag") {
				t.Errorf("error line %q, want it to start %q and name --no-such-flag", lines[0], want)
			}
			if want := "Run 'logbook " + name + " -h' for usage."; lines[1] != want {
				t.Errorf("second line %q, want %q", lines[1], want)
			}
		})
	}
}

// TestEnvErrorsNameBoth checks that a bad value from a LOGBOOK_ variable
// is reported with the variable and the flag, whether flag parsing or the
// command's own checks refuse it.
func TestEnvErrorsNameBoth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"simulate", "--backfill", "1h", "--out", "-"}, map[string]string{"LOGBOOK_USERS": "many"},
			`logbook simulate: LOGBOOK_USERS (--users): invalid value "many"`},
		{[]string{"simulate", "--live", "--out", "-"}, map[string]string{"LOGBOOK_RATE": "9000/min"},
			`logbook simulate: LOGBOOK_RATE (--rate): 9000/min is more than`},
		{[]string{"simulate", "--live", "--out", "-", "--rate", "9000/min"}, nil,
			`logbook simulate: --rate: 9000/min is more than`},
	}
	for _, tt := range tests {
		_, errOut, code := runMain(tt.args, tt.env)
		if code != 2 || !strings.HasPrefix(errOut, tt.want) {
			t.Errorf("%v with %v: exit %d, stderr %q; want 2 and %q", tt.args, tt.env, code, errOut, tt.want)
		}
	}
}

// TestCommandTableOrder checks the command table is in the order help
// lists it (alphabetical) with no name twice, now that nothing sorts it.
func TestCommandTableOrder(t *testing.T) {
	t.Parallel()
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	if !slices.IsSorted(names) {
		t.Errorf("commands() = %v, want alphabetical order", names)
	}
	if got := len(slices.Compact(slices.Clone(names))); got != len(names) {
		t.Errorf("commands() has %d distinct names of %d: %v", got, len(names), names)
	}
	out, _, _ := runMain([]string{"help"}, nil)
	var listed []string
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z-]+) +[a-z]`).FindAllStringSubmatch(out, -1) {
		listed = append(listed, m[1])
	}
	if !slices.Equal(listed, names) {
		t.Errorf("help lists %v, want %v", listed, names)
	}
}
