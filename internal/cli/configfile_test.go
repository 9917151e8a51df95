package cli

import (
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeConfig writes text to a file logbook.yaml in a new directory and
// returns its path.
func writeConfig(t testing.TB, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "logbook.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// printedLine is one key of --print-config's output.
type printedLine struct {
	Value  string // as written in the YAML
	Source string // the comment after it
}

var printedRE = regexp.MustCompile(`^([a-z0-9-]+): (.*)  # (.*)$`)

// printConfig runs serve --print-config with args and env and returns its
// keys; it fails the test unless serve exits 0 with nothing on stderr.
func printConfig(t *testing.T, env map[string]string, args ...string) (map[string]printedLine, string) {
	t.Helper()
	out, errOut, code := runMain(append([]string{"serve", "--print-config"}, args...), env)
	if code != 0 || errOut != "" {
		t.Fatalf("serve --print-config %v: exit %d, stderr:\n%s", args, code, errOut)
	}
	keys := map[string]printedLine{}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		m := printedRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("print-config line %q is not \"key: value  # source\"", line)
		}
		keys[m[1]] = printedLine{m[2], m[3]}
	}
	return keys, out
}

// TestConfigPrecedence: a value on the command line wins over one from a
// LOGBOOK_* variable, which wins over the file (named by LOGBOOK_CONFIG
// here), which wins over the default; --print-config says which won.
func TestConfigPrecedence(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, `
# every layer sets log-level; file, env and flag set data and rate-per-hour differently
listen: 127.0.0.1:9999
log-level: warn
data: /from/file
rate-per-hour: 100
rate-per-minute: 7
access-log: true
`)
	env := map[string]string{
		"LOGBOOK_CONFIG":        path,
		"LOGBOOK_LOG_LEVEL":     "error",
		"LOGBOOK_DATA":          "/from/env",
		"LOGBOOK_RATE_PER_HOUR": "200",
	}
	got, out := printConfig(t, env, "--log-level", "debug", "--rate-per-hour", "300")
	want := map[string]printedLine{
		"listen":          {"127.0.0.1:9999", "file " + path + ":3"},
		"rate-per-minute": {"7", "file " + path + ":7"},
		"access-log":      {"true", "file " + path + ":8"},
		"data":            {"/from/env", "env LOGBOOK_DATA"},
		"log-level":       {"debug", "flag"},
		"rate-per-hour":   {"300", "flag"},
		"log-format":      {"text", "default"},
		"spin-window":     {"1s", "default"},
		"serve-window":    {"120d", "default"},
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %+v, want %+v", k, got[k], w)
		}
	}
	if !strings.Contains(out, "# Configuration file: "+path+" (env LOGBOOK_CONFIG).") {
		t.Errorf("print-config does not name the file and LOGBOOK_CONFIG:\n%s", out)
	}
	// Every flag of serve is a key, but --config and --print-config.
	var missing []string
	inspectServe(t).VisitAll(func(f *flag.Flag) {
		_, ok := got[f.Name]
		switch {
		case f.Name == configFlag || f.Name == printConfigFlag:
			if ok {
				t.Errorf("print-config writes %s, which a file may not set", f.Name)
			}
		case !ok && !strings.Contains(out, "# "+f.Name+": "):
			missing = append(missing, f.Name)
		}
	})
	if len(missing) > 0 {
		t.Errorf("print-config leaves out %v:\n%s", missing, out)
	}

	// The same file named with --config; a flag still wins over it.
	got, _ = printConfig(t, nil, "--config", path, "--listen", "127.0.0.1:1")
	if w := (printedLine{"127.0.0.1:1", "flag"}); got["listen"] != w {
		t.Errorf("listen = %+v, want %+v", got["listen"], w)
	}
	if w := (printedLine{"/from/file", "file " + path + ":5"}); got["data"] != w {
		t.Errorf("data = %+v, want %+v", got["data"], w)
	}
}

// inspectServe returns serve's flag set, as the configuration reference
// is made from it.
func inspectServe(t testing.TB) *flag.FlagSet {
	t.Helper()
	var fs *flag.FlagSet
	err := runServe(t.Context(), Env{inspectFlags: func(s *flag.FlagSet) { fs = s }}, nil)
	if err != errInspected || fs == nil {
		t.Fatalf("runServe with inspectFlags = %v, want errInspected and the flag set", err)
	}
	return fs
}

// TestServeReadsConfigFile: serve really runs on what a file says: it
// listens where the file says, with data where the file says, and makes no
// demo because the file says so.
func TestServeReadsConfigFile(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	path := writeConfig(t, "listen: 127.0.0.1:0\ndata: "+data+"\nno-demo: true\n")
	url, stop := startServe(t, "--config", path)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Errorf("serving at %s, want http://127.0.0.1:PORT", url)
	}
	if err := stop(); err != nil {
		t.Errorf("serve returned %v after cancellation, want nil", err)
	}
	if _, err := os.Stat(filepath.Join(data, dbFile)); err != nil {
		t.Errorf("no database in the file's data directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "demo.token")); err == nil {
		t.Error("serve made the demo though the file says no-demo: true")
	}
}

// TestConfigFileErrors: each mistake in a file is refused with its file,
// line, key and reason, exit status 2 and nothing on stdout; all of a
// file's mistakes are reported at once.
func TestConfigFileErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file string
		env        map[string]string
		args       []string
		want       string // stderr's first lines, FILE standing for the path
	}{
		{name: "unknown key", file: "listen: 127.0.0.1:8080\nlisen: 127.0.0.1:8081\n",
			want: `FILE:2: unknown key "lisen" (did you mean "listen"?)`},
		{name: "underscores", file: "public_url: https://events.example.com\n",
			want: `FILE:1: unknown key "public_url" (did you mean "public-url"?)`},
		{name: "dashes", file: "--tls: true\n",
			want: `FILE:1: unknown key "--tls" (did you mean "tls"?)`},
		{name: "unknown key far from any", file: "colour: blue\n",
			want: `FILE:1: unknown key "colour"`},
		{name: "bool not boolean", file: "tls: yes\n",
			want: `FILE:1: tls: "yes" is not a boolean (want true or false)`},
		{name: "boolean for an address", file: "listen: true\n",
			want: `FILE:1: listen: true is a boolean; want an address`},
		{name: "not a number", file: "rate-per-minute: ten\n",
			want: `FILE:1: rate-per-minute: invalid value "ten": want a whole number`},
		{name: "duration without unit", file: "spin-window: 30\n",
			want: `FILE:1: spin-window: invalid value "30": want a duration such as 30s, 5m or 1h30m`},
		{name: "bad span", file: "serve-window: three weeks\n",
			want: `FILE:1: serve-window: invalid value "three weeks": `},
		{name: "list", file: "listen:\n  - 127.0.0.1:8080\n",
			want: `FILE:2: listen: want a single value, not a list`},
		{name: "mapping", file: "db: {url: postgres://h/db}\n",
			want: `FILE:1: db: want a single value, not a mapping`},
		{name: "no value", file: "public-url:\n",
			want: `FILE:1: public-url: no value (write "" for an empty one, or leave the key out)`},
		{name: "twice", file: "listen: 127.0.0.1:1\ntls: true\nlisten: 127.0.0.1:2\n",
			want: `FILE:3: key "listen" given twice (first on line 1)`},
		{name: "config in config", file: "config: other.yaml\n",
			want: `FILE:1: config: cannot be set in a configuration file`},
		{name: "not a mapping", file: "- listen: 127.0.0.1:8080\n",
			want: `FILE:1: want a mapping of flag names to values, such as "listen: 127.0.0.1:8080", not a list`},
		{name: "two documents", file: "listen: 127.0.0.1:1\n---\nlisten: 127.0.0.1:2\n",
			want: `FILE:2: a second YAML document: the file holds one mapping of flag names to values`},
		{name: "syntax", file: "listen: 127.0.0.1:1\ntls: true: false\n",
			want: `FILE:2: mapping values are not allowed in this context`},
		{name: "unclosed list", file: "listen: 127.0.0.1:1\n\nrate-per-minute: [1\n",
			want: `FILE:3: did not find expected ',' or ']'`},
		{name: "control character", file: "listen: 127.0.0.1:1\ndata: a\x01b\n",
			want: `FILE:2: control character U+0001 is not allowed`},
		{name: "every mistake at once", file: "lisen: x\ntls: no\nlisten: y\nlisten: z\n",
			want: "FILE:1: unknown key \"lisen\" (did you mean \"listen\"?)\nFILE:2: tls: \"no\" is not a boolean (want true or false)\nFILE:4: key \"listen\" given twice (first on line 3)"},
		{name: "overridden value still checked", file: "rate-per-hour: lots\n", args: []string{"--rate-per-hour", "5"},
			want: `FILE:1: rate-per-hour: invalid value "lots": want a whole number`},
		{name: "refused by serve's own checks", file: "\nserve-window: 30m\n",
			want: `FILE:2: serve-window (--serve-window): 30m0s is shorter than an hour`},
		{name: "missing file", args: []string{"--config", "/nonexistent/logbook.yaml"},
			want: `--config: open /nonexistent/logbook.yaml: no such file or directory`},
		{name: "missing file from env", env: map[string]string{"LOGBOOK_CONFIG": "/nonexistent/logbook.yaml"},
			want: `LOGBOOK_CONFIG (--config): open /nonexistent/logbook.yaml: no such file or directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"serve", "--data", t.TempDir()}, tc.args...)
			path := "FILE"
			if tc.file != "" {
				path = writeConfig(t, tc.file)
				args = append(args, "--config", path)
			}
			out, errOut, code := runMain(args, tc.env)
			if code != 2 || out != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out)
			}
			want := "logbook serve: " + strings.ReplaceAll(tc.want, "FILE", path)
			if !strings.HasPrefix(errOut, want) {
				t.Errorf("stderr:\n%s\nwant it to start:\n%s", errOut, want)
			}
			if !strings.HasSuffix(errOut, "\nRun 'logbook serve -h' for usage.\n") {
				t.Errorf("stderr does not end pointing at the help:\n%s", errOut)
			}
		})
	}
}

// TestConfigFileEmpty: a file that sets nothing (empty, comments only, a
// bare document) leaves every flag at its default.
func TestConfigFileEmpty(t *testing.T) {
	t.Parallel()
	for _, text := range []string{"", "# nothing here\n\n", "---\n", "\xEF\xBB\xBF"} {
		got, _ := printConfig(t, nil, "--config", writeConfig(t, text))
		for k, l := range got {
			if l.Source != "default" {
				t.Errorf("file %q: %s came from %s, want default", text, k, l.Source)
			}
		}
	}
}

// TestPrintConfigRedacts: passwords in --db and --redis URLs, as user
// information or parameters, from a flag, a variable or the file, never
// appear in --print-config's output; the rest of the URL does.
func TestPrintConfigRedacts(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "redis: redis://:fileSecret1@cache.example:6379/0\n")
	env := map[string]string{"LOGBOOK_DB": "postgres://logbook:envSecret2@db.example/logbook?sslmode=require&password=envSecret3"}
	got, out := printConfig(t, env, "--config", path)
	for _, secret := range []string{"fileSecret1", "envSecret2", "envSecret3"} {
		if strings.Contains(out, secret) {
			t.Errorf("print-config shows %s:\n%s", secret, out)
		}
	}
	if w := "redis://:xxxxx@cache.example:6379/0"; got["redis"].Value != w {
		t.Errorf("redis = %s, want %s", got["redis"].Value, w)
	}
	if w := "postgres://logbook:xxxxx@db.example/logbook?sslmode=require&password=xxxxx"; got["db"].Value != w {
		t.Errorf("db = %s, want %s", got["db"].Value, w)
	}
	// Given as a flag, with an @ inside the password.
	_, out = printConfig(t, nil, "--db", "postgres://u:pa@ss@db.example/x")
	if strings.Contains(out, "pa@ss") || strings.Contains(out, "ss@db") {
		t.Errorf("print-config shows part of the password:\n%s", out)
	}
}

// secretString is a string flag marked secret.
type secretString string

func (s *secretString) String() string     { return string(*s) }
func (s *secretString) Set(v string) error { *s = secretString(v); return nil }
func (s *secretString) Secret() bool       { return true }

// TestRedactValue: a flag whose value is a secret, by its type or its
// name, is redacted whole; a flag naming where a secret is is not.
func TestRedactValue(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var s secretString
	fs.Var(&s, "signing-material", "")
	fs.String("admin-password", "", "")
	fs.String("key-encryption-key-file", "", "")
	fs.String("smtp-url", "", "")
	fs.String("key-encryption-key", "", "the `key` itself")
	fs.String("tls-key", "", "private key `file`")
	fs.String("relay-token-env", "", "")
	for _, tc := range []struct{ flag, value, want string }{
		{"signing-material", "hunter2", "xxxxx"},
		{"signing-material", "", ""},
		{"admin-password", "hunter2", "xxxxx"},
		{"key-encryption-key-file", "/etc/logbook/kek", "/etc/logbook/kek"},
		{"key-encryption-key", "c2VjcmV0", "xxxxx"},
		{"tls-key", "/etc/logbook/key.pem", "/etc/logbook/key.pem"},
		{"relay-token-env", "RELAY_TOKEN", "RELAY_TOKEN"},
		{"smtp-url", "smtp://me:hunter2@mail.example:587", "smtp://me:xxxxx@mail.example:587"},
		{"smtp-url", "host=db user=me password=hunter2 sslmode=verify-full", "host=db user=me password=xxxxx sslmode=verify-full"},
		{"smtp-url", "https://example.com/?api_token=hunter2&x=1", "https://example.com/?api_token=xxxxx&x=1"},
	} {
		if got := redactValue(fs.Lookup(tc.flag), tc.value); got != tc.want {
			t.Errorf("redactValue(--%s, %q) = %q, want %q", tc.flag, tc.value, got, tc.want)
		}
	}
}

// TestPrintConfigRoundTrip: what --print-config prints, given back with
// --config, gives the same configuration, every value now from the file;
// values that YAML would read as something else (numbers, booleans,
// comments, colons) survive the trip.
func TestPrintConfigRoundTrip(t *testing.T) {
	t.Parallel()
	file := writeConfig(t, "serve-window: 30d\ndelete-after: 400d\nconsole-listen: \":9000\"\n")
	env := map[string]string{"LOGBOOK_TLS_CERT": "/etc/logbook/a b: #1.pem", "LOGBOOK_TLS_KEY": "yes"}
	first, printed := printConfig(t, env, "--config", file, "--data", "0123", "--public-url", "https://events.example.com:8443",
		"--log-format", "json", "--no-migrate", "--rate-per-minute", "0", "--spin-window", "1m30s", "--listen", "[::1]:8080")
	if first["tls-cert"].Value == "/etc/logbook/a b: #1.pem" {
		t.Fatalf("tls-cert written unquoted: %s", first["tls-cert"].Value)
	}
	again, _ := printConfig(t, nil, "--config", writeConfig(t, printed))
	if len(again) != len(first) {
		t.Errorf("read back, %d keys; printed %d", len(again), len(first))
	}
	for k, l := range first {
		if again[k].Value != l.Value {
			t.Errorf("%s read back as %s, printed %s", k, again[k].Value, l.Value)
		}
		if !strings.HasPrefix(again[k].Source, "file ") {
			t.Errorf("%s read back from %s, want the file", k, again[k].Source)
		}
	}
	if diff := cmp.Diff(first["tls-cert"], printedLine{`'/etc/logbook/a b: #1.pem'`, "env LOGBOOK_TLS_CERT"}); diff != "" {
		t.Errorf("tls-cert (-got +want):\n%s", diff)
	}
}

// TestConfigFileLinesAndOrder pins parseConfigFile on its own: entries in
// file order with their lines, and YAML booleans told from strings.
func TestConfigFileLinesAndOrder(t *testing.T) {
	t.Parallel()
	got, errs := parseConfigFile("f", []byte("# c\nb: 'true'\na: true\nc: 0x10\nd: \"\"\n"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := []configEntry{{"b", "true", false, 2}, {"a", "true", true, 3}, {"c", "0x10", false, 4}, {"d", "", false, 5}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(configEntry{})); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

var fuzzErrorLine = regexp.MustCompile(`^f\.yaml:[1-9][0-9]*: \S`)

// FuzzConfigFile: no input makes the parser panic, and every problem it
// reports names the file and a line within the file.
func FuzzConfigFile(f *testing.F) {
	for _, s := range []string{
		"listen: 127.0.0.1:8080\ntls: true\n",
		"lisen: x\nlisten: [1\n",
		"a: &x 1\nb: *x\nc: *y\n",
		"- a\n---\nb: {c: d}\n",
		"k: \"\\u0001\"\r\nk: 'x'\n\x85z: ~\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, errs := parseConfigFile("f.yaml", data)
		lines := 1 + strings.Count(string(data), "\n") + strings.Count(string(data), "\r") +
			strings.Count(string(data), "\u0085") + strings.Count(string(data), "\u2028") + strings.Count(string(data), "\u2029")
		for _, e := range errs {
			if !fuzzErrorLine.MatchString(e.text) || !strings.HasPrefix(e.text, fmt.Sprintf("f.yaml:%d: ", e.line)) {
				t.Fatalf("problem %q does not start with f.yaml:%d:", e.text, e.line)
			}
			if e.line > lines {
				t.Fatalf("problem %q names line %d of a %d-line file", e.text, e.line, lines)
			}
		}
		for _, e := range entries {
			if e.line < 1 || e.line > lines {
				t.Fatalf("entry %+v on line %d of a %d-line file", e, e.line, lines)
			}
		}
		// The same text applied to a flag set of every kind of flag.
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.String("listen", "", "`address`")
		fs.Bool("tls", false, "")
		fs.Int64("rate-per-minute", 0, "")
		fs.Duration("spin-window", 0, "")
		var span spanFlag
		fs.Var(&span, "serve-window", "")
		c := &configFile{path: "f.yaml", sources: map[string]string{"listen": "default", "tls": "default",
			"rate-per-minute": "default", "spin-window": "flag", "serve-window": "default"}}
		if err := c.apply(fs, data, map[string]string{}); err != nil {
			for _, e := range strings.Split(err.Error(), "\n") {
				if !fuzzErrorLine.MatchString(e) && !regexp.MustCompile(`^\(and \d+ more problems\)$`).MatchString(e) {
					t.Fatalf("apply's problem %q does not start with f.yaml:LINE:", e)
				}
			}
		}
	})
}

// TestConfigFileSecretReadable: a file every user can read that holds a
// password gets a warning naming the key (not the password); the same
// file of mode 0600, or a readable file without secrets, gets none.
func TestConfigFileSecretReadable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		mode os.FileMode
		warn bool
	}{
		{"db: postgres://u:hunter2@db.example/x\n", 0o644, true},
		{"db: postgres://u:hunter2@db.example/x\n", 0o600, false},
		{"db: postgres://u@db.example/x\n", 0o644, false},
	} {
		path := writeConfig(t, tc.text)
		if err := os.Chmod(path, tc.mode); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := runMain([]string{"serve", "--print-config", "--config", path}, nil)
		if code != 0 || strings.Contains(out+errOut, "hunter2") {
			t.Fatalf("exit %d, output shows the password or failed:\n%s%s", code, out, errOut)
		}
		want := "logbook: warning: " + path + " holds a secret (db) and every user can read it"
		if got := strings.Contains(errOut, want); got != tc.warn {
			t.Errorf("%q mode %v: warned %v, want %v; stderr:\n%s", tc.text, tc.mode, got, tc.warn, errOut)
		}
	}
}

// TestPrintConfigOpensNothing: --print-config neither creates the data
// directory nor opens the database nor listens: it succeeds on an address
// another socket holds, and leaves no file behind.
func TestPrintConfigOpensNothing(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := filepath.Join(t.TempDir(), "data")
	got, _ := printConfig(t, nil, "--data", data, "--listen", ln.Addr().String(), "--db", "postgres://nobody@127.0.0.1:1/none")
	if got["listen"].Value != ln.Addr().String() {
		t.Errorf("listen = %s, want %s", got["listen"].Value, ln.Addr())
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("print-config touched the data directory: stat = %v", err)
	}
}

// TestConfigFileManyProblems: a file of many mistakes lists the first 20
// and counts the rest; a directory given as the file is refused.
func TestConfigFileManyProblems(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 25 {
		fmt.Fprintf(&b, "nokey%d: x\n", i)
	}
	path := writeConfig(t, b.String())
	_, errOut, code := runMain([]string{"serve", "--config", path}, nil)
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	if code != 2 || len(lines) != 22 {
		t.Fatalf("exit %d, %d lines, want 2 and 22:\n%s", code, len(lines), errOut)
	}
	if want := path + `:20: unknown key "nokey19"`; lines[19] != want {
		t.Errorf("line 20 = %q, want %q", lines[19], want)
	}
	if want := "(and 5 more problems)"; lines[20] != want {
		t.Errorf("line 21 = %q, want %q", lines[20], want)
	}

	dir := t.TempDir()
	_, errOut, code = runMain([]string{"serve", "--config", dir}, nil)
	if want := "logbook serve: --config: " + dir + " is a directory\n"; code != 2 || !strings.HasPrefix(errOut, want) {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, want)
	}
}
