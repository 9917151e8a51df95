package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/internal/roundtrip"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/testenv"
	"github.com/logbookhq/logbook/internal/token"
)

// runEnv runs the command line args with the variables env and returns
// stdout, and the one line an error prints.
func runEnv(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Main(t.Context(), args, Env{Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errb})
	var line bytes.Buffer
	ReportError(&line, err)
	return out.String(), line.String(), err
}

// newKEKFile makes a KEK file with kek-new and returns its path and key.
func newKEKFile(t *testing.T) (string, *token.KEK) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kek")
	if _, _, err := runEnv(t, nil, "keys", "kek-new", "--to", path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := token.ParseKEK(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return path, k
}

// TestKEKNew: keys kek-new writes 44 characters of base64 and a newline
// with mode 0600, prints the id, and replaces a file only with --force.
func TestKEKNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek")
	out, _, err := runEnv(t, nil, "keys", "kek-new", "--to", path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
	}
	first, _ := os.ReadFile(path)
	k, err := token.ParseKEK(string(first))
	if err != nil || len(first) != 45 || first[44] != '\n' {
		t.Fatalf("file %q: %v; want 44 characters of base64 and a newline", first, err)
	}
	if !strings.Contains(out, "Key-encryption key "+k.ID()+" written to "+path) || strings.Contains(out, strings.TrimSpace(string(first))) {
		t.Errorf("kek-new printed %q: want the id, never the key", out)
	}

	_, line, err := runEnv(t, nil, "keys", "kek-new", "--to", path)
	if code := ReportError(&bytes.Buffer{}, err); code != 2 || !strings.Contains(line, "--to: "+path+" exists; give --force") {
		t.Errorf("kek-new over a file = %d %q, want 2 and an error asking for --force", code, line)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, first) {
		t.Error("kek-new without --force changed the file")
	}
	if _, _, err := runEnv(t, nil, "keys", "kek-new", "--to", path, "--force"); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(path); bytes.Equal(now, first) {
		t.Error("kek-new --force left the file as it was")
	}
	if _, line, err := runEnv(t, nil, "keys", "kek-new"); err == nil || !strings.Contains(line, "--to: a file is required") {
		t.Errorf("kek-new without --to = %q", line)
	}
}

// TestKEKFileChecks: the KEK file must be private to its owner and hold a
// KEK; the variable holding the key works instead, not beside the file;
// each refusal is one line naming the flag or variable, and changes
// nothing.
func TestKEKFileChecks(t *testing.T) {
	data := t.TempDir()
	path, kek := newKEKFile(t)
	text, _ := kek.MarshalText()
	if _, _, err := runEnv(t, nil, "account", "create", "--data", data, "--name", "A", "--owner-email", "a@example.com"); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(t.TempDir(), "garbage")
	os.WriteFile(garbage, []byte("not a key\n"), 0o600)
	for name, tc := range map[string]struct {
		mode os.FileMode
		args []string
		env  map[string]string
		want string // "" accepted
	}{
		"0600":               {0o600, []string{"--key-encryption-key-file", path}, nil, ""},
		"0400":               {0o400, []string{"--key-encryption-key-file", path}, nil, ""},
		"0644":               {0o644, []string{"--key-encryption-key-file", path}, nil, "--key-encryption-key-file: " + path + " is open to group or others (mode 0644); make it private: chmod 600"},
		"0640":               {0o640, []string{"--key-encryption-key-file", path}, nil, "(mode 0640)"},
		"0604":               {0o604, []string{"--key-encryption-key-file", path}, nil, "(mode 0604)"},
		"0620":               {0o620, []string{"--key-encryption-key-file", path}, nil, "(mode 0620)"},
		"file variable":      {0o644, nil, map[string]string{"LOGBOOK_KEY_ENCRYPTION_KEY_FILE": path}, "LOGBOOK_KEY_ENCRYPTION_KEY_FILE (--key-encryption-key-file): " + path + " is open"},
		"missing":            {0o600, []string{"--key-encryption-key-file", path + ".nope"}, nil, "--key-encryption-key-file: open " + path + ".nope: no such file"},
		"not a key":          {0o600, []string{"--key-encryption-key-file", garbage}, nil, "--key-encryption-key-file: " + garbage + ": not standard base64"},
		"key variable":       {0o600, nil, map[string]string{"LOGBOOK_KEY_ENCRYPTION_KEY": string(text)}, ""},
		"bad key variable":   {0o600, nil, map[string]string{"LOGBOOK_KEY_ENCRYPTION_KEY": "c2hvcnQ="}, "LOGBOOK_KEY_ENCRYPTION_KEY: 5 bytes, want 32"},
		"file and variable":  {0o600, []string{"--key-encryption-key-file", path}, map[string]string{"LOGBOOK_KEY_ENCRYPTION_KEY": string(text)}, "--key-encryption-key-file and LOGBOOK_KEY_ENCRYPTION_KEY are both given; give one"},
		"directory as file":  {0o600, []string{"--key-encryption-key-file", t.TempDir()}, nil, "is not a regular file"},
		"serve, 0644":        {0o644, []string{"serve", "--key-encryption-key-file", path}, nil, "logbook serve: --key-encryption-key-file: " + path + " is open to group or others"},
		"serve, bad env key": {0o600, []string{"serve"}, map[string]string{"LOGBOOK_KEY_ENCRYPTION_KEY": "x"}, "logbook serve: LOGBOOK_KEY_ENCRYPTION_KEY: not standard base64"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			defer os.Chmod(path, 0o600)
			args := append([]string{"keys", "list", "--data", data}, tc.args...)
			if len(tc.args) > 0 && tc.args[0] == "serve" { // refused before it listens
				args = append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0"}, tc.args[1:]...)
			}
			before := signingKeys(t, data)
			_, line, err := runEnv(t, tc.env, args...)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("%v: %v", args, err)
				}
				return
			}
			if err == nil || !strings.Contains(line, tc.want) || strings.Count(strings.TrimSpace(line), "\n") > 1 {
				t.Fatalf("%v = %q, want an error saying %q", args, line, tc.want)
			}
			if strings.Contains(line, string(text)) {
				t.Errorf("the error shows the key: %q", line)
			}
			if diff := cmp.Diff(before, signingKeys(t, data)); diff != "" {
				t.Errorf("a refused command changed the keys (-before +after):\n%s", diff)
			}
		})
	}
}

// signingKeys reads the signing keys of the SQLite database in data, or of
// the PostgreSQL database db when given.
func signingKeys(t *testing.T, data string, db ...string) []store.SigningKey {
	t.Helper()
	sf := storeFlags{data: data}
	if len(db) > 0 {
		sf.db = db[0]
	}
	st, err := sf.open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ks, err := st.SigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// TestKEKServe: on SQLite and PostgreSQL, a token issued while keys are
// in plaintext keeps working after serve starts with a KEK, which
// encrypts the keys and logs it; keys rotate and token issue work with
// the KEK (from the file or the variable); without it, or with another
// one, commands and serve refuse with one line naming the key and what to
// give, and nothing changes.
func TestKEKServe(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			data := t.TempDir()
			var db []string
			base := []string{"--data", data}
			if backend == "postgres" {
				db = []string{testenv.PostgresSchema(t)}
				base = append(base, "--db", db[0])
			}
			run := func(env map[string]string, args ...string) (string, string, error) {
				t.Helper()
				return runEnv(t, env, append(args, base...)...)
			}
			if _, _, err := run(nil, "account", "create", "--name", "A", "--owner-email", "a@example.com"); err != nil {
				t.Fatal(err)
			}
			before, _, err := run(nil, "token", "issue", "--name", "before", "--public-url", "http://127.0.0.1:1")
			if err != nil {
				t.Fatal(err)
			}
			before = strings.TrimSpace(before)
			if ks := signingKeys(t, data, db...); len(ks) != 1 || token.IsSealed(ks[0].Private) {
				t.Fatalf("want one plaintext key before a KEK, have %d", len(ks))
			}

			path, kek := newKEKFile(t)
			text, _ := kek.MarshalText()
			url, stop := serveLog(t, append(base, "--listen", "127.0.0.1:0", "--public-url", "http://127.0.0.1:1", "--no-demo", "--key-encryption-key-file", path)...)
			if status, body := roundtrip.Call(t, "POST", url+"/api/v2/auditevents", before, `{"limit":1}`); status != 200 {
				t.Errorf("token issued before the KEK: %d %s, want 200", status, body)
			}
			logs := strings.Join(stop(), "\n")
			ks := signingKeys(t, data, db...)
			if !token.IsSealed(ks[0].Private) {
				t.Fatal("serve with a KEK left the key in plaintext")
			}
			if !strings.Contains(logs, `msg="signing key encrypted at rest" kid=`+ks[0].ID+" kek="+kek.ID()) {
				t.Errorf("serve did not log the encryption:\n%s", logs)
			}

			withEnv := map[string]string{"LOGBOOK_KEY_ENCRYPTION_KEY": string(text)}
			if _, _, err := run(withEnv, "keys", "rotate"); err != nil {
				t.Fatalf("keys rotate with the KEK: %v", err)
			}
			after, _, err := run(nil, "token", "issue", "--name", "after", "--public-url", "http://127.0.0.1:1", "--key-encryption-key-file", path)
			if err != nil {
				t.Fatalf("token issue with the KEK: %v", err)
			}
			ks = signingKeys(t, data, db...)
			if len(ks) != 2 || !token.IsSealed(ks[1].Private) {
				t.Fatalf("after keys rotate with a KEK: %d keys, the new one sealed: want 2, sealed", len(ks))
			}

			wrong, _ := newKEKFile(t)
			for name, tc := range map[string]struct {
				args []string
				want string
			}{
				"token issue, no KEK": {[]string{"token", "issue", "--name", "x"},
					"logbook: signing key " + ks[0].ID + " is encrypted at rest (with key-encryption key " + kek.ID() + ") and no key-encryption key was given; give it with --key-encryption-key-file FILE or LOGBOOK_KEY_ENCRYPTION_KEY\n"},
				"keys rotate, wrong KEK": {[]string{"keys", "rotate", "--key-encryption-key-file", wrong},
					"logbook: signing key " + ks[0].ID + " is encrypted with key-encryption key " + kek.ID() + ", not with the one given ("},
				"serve, no KEK": {[]string{"serve", "--listen", "127.0.0.1:0", "--no-demo"},
					"logbook: signing key " + ks[0].ID + " is encrypted at rest"},
				"serve, wrong KEK": {[]string{"serve", "--listen", "127.0.0.1:0", "--no-demo", "--key-encryption-key-file", wrong},
					"); give the key-encryption key the keys were encrypted with\n"},
			} {
				t.Run(name, func(t *testing.T) {
					_, line, err := run(nil, tc.args...)
					if err == nil || !strings.Contains(line, tc.want) || strings.Count(line, "\n") != 1 {
						t.Fatalf("%v = %q, want one line with %q", tc.args, line, tc.want)
					}
					if diff := cmp.Diff(ks, signingKeys(t, data, db...)); diff != "" {
						t.Errorf("a refused command changed the keys (-before +after):\n%s", diff)
					}
				})
			}

			url, _ = serveLog(t, append(base, "--listen", "127.0.0.1:0", "--public-url", "http://127.0.0.1:1", "--no-demo", "--key-encryption-key-file", path)...)
			for name, tok := range map[string]string{"before": before, "after": strings.TrimSpace(after)} {
				if status, body := roundtrip.Call(t, "POST", url+"/api/v2/auditevents", tok, `{"limit":1}`); status != 200 {
					t.Errorf("token %s on a restarted server with the KEK: %d %s, want 200", name, status, body)
				}
			}
		})
	}
}
