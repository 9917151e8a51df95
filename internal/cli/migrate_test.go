package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMigrate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	run := func(args []string, env map[string]string) (string, error) {
		var out bytes.Buffer
		err := Main(t.Context(), append([]string{"migrate"}, args...), Env{
			Getenv: func(k string) string { return env[k] },
			Stdout: &out,
		})
		return out.String(), err
	}

	out, err := run([]string{"--data", dir}, nil)
	if err != nil {
		t.Fatalf("first migrate: %v", err)
	}
	if !strings.Contains(out, "applied 0001_init.sql\n") {
		t.Errorf("first migrate printed %q, want it to name 0001_init.sql", out)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, dbFile): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode = %v, want %v", path, got, want)
		}
	}

	// Again, through LOGBOOK_DATA: nothing to apply.
	out, err = run(nil, map[string]string{"LOGBOOK_DATA": dir})
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if strings.Contains(out, "applied") || !strings.Contains(out, "up to date") {
		t.Errorf("second migrate printed %q, want only that it is up to date", out)
	}

	tests := []struct {
		name      string
		args      []string
		wantUsage bool
		wantText  string
	}{
		{"postgres unreachable", []string{"--data", dir, "--db", "postgres://u:secret@127.0.0.1:1/test?connect_timeout=2"}, false, "--db postgres://u:xxxxx@127.0.0.1:1"},
		{"not a URL", []string{"--data", dir, "--db", "mysql://x:secret@h/db"}, true, "--db"},
		{"stray argument", []string{"--data", dir, "extra"}, true, "unexpected argument"},
		{"empty data", []string{"--data", ""}, true, "--data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(tt.args, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("err = %v reveals the password", err)
			}
			var ue *UsageError
			if got := errors.As(err, &ue); got != tt.wantUsage {
				t.Errorf("usage error = %v, want %v", got, tt.wantUsage)
			}
		})
	}
}
