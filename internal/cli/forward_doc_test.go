package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// docBlock returns the fenced code block that follows the line containing
// marker in the Markdown file at path.
func docBlock(t *testing.T, path, marker string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i := strings.Index(doc, marker)
	if i < 0 {
		t.Fatalf("%s has no %q", path, marker)
	}
	rest := doc[i:]
	start := strings.Index(rest, "```")
	if start < 0 {
		t.Fatalf("%s: no code block after %q", path, marker)
	}
	rest = rest[start:]
	rest = rest[strings.Index(rest, "\n")+1:]
	end := strings.Index(rest, "```")
	if end < 0 {
		t.Fatalf("%s: unterminated code block after %q", path, marker)
	}
	return rest[:end]
}

// TestForwardValidateDocExample pins the "forward validate" example of
// docs/forward.md to what the program prints for the configuration shown
// there (main prefixes errors with "logbook: "): sorted by path, every
// problem once.
func TestForwardValidateDocExample(t *testing.T) {
	const doc = "../../docs/forward.md"
	config := docBlock(t, doc, "<!-- validate-example: config")
	want := docBlock(t, doc, "<!-- validate-example: output -->")
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	b := &fwdBundle{dir: dir}
	_, _, err := b.run(t, nil, "forward", "validate", "--config", path)
	if err == nil {
		t.Fatal("validate accepted the documented bad configuration")
	}
	if diff := cmp.Diff(want, "logbook: "+err.Error()+"\n"); diff != "" {
		t.Errorf("docs/forward.md's validate example differs from the program's output (-doc +program):\n%s", diff)
	}
}
