package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/logbookhq/logbook"

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

// TestPublicPackagesStayLean: events and client are what other programs
// import; they must not drag in Logbook's internals or a database driver.
// One go list gives both packages' dependencies (loading the module's
// package graph is most of what go list costs).
func TestPublicPackagesStayLean(t *testing.T) {
	t.Parallel()
	lines := goListLines(t, "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", module+"/events", module+"/client")
	if len(lines) != 2 {
		t.Fatalf("go list gave %d packages, want events and client:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, line := range lines {
		deps := strings.Fields(line)
		pkg := deps[0]
		for _, dep := range deps[1:] {
			switch {
			case dep == "database/sql":
				t.Errorf("%s imports database/sql", pkg)
			case strings.HasPrefix(dep, module+"/internal"):
				t.Errorf("%s imports %s", pkg, dep)
			case !strings.HasPrefix(dep, module) && !standard(dep):
				t.Errorf("%s imports the third-party package %s", pkg, dep)
			}
		}
	}
}

// standard reports whether path is a standard library package: its first
// element has no dot (go list's Deps include them without saying so).
func standard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// goListLines is goList one line per package.
func goListLines(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// TestPackageDocs: every package says what it is for in a comment that
// starts "Package <name>" (or "Command <name>" for main packages).
func TestPackageDocs(t *testing.T) {
	t.Parallel()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	for _, dir := range goList(t, "-e", "-f", "{{.Dir}}", module+"/...") {
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Fatal(err)
		}
		for name, p := range pkgs {
			documented := false
			for _, f := range p.Files {
				if f.Doc == nil {
					continue
				}
				text := f.Doc.Text()
				if strings.HasPrefix(text, "Package "+name+" ") || strings.HasPrefix(text, "Command ") {
					documented = true
				}
			}
			if !documented {
				rel, _ := filepath.Rel(root, dir)
				t.Errorf("package %s in %s has no doc comment starting %q", name, rel, "Package "+name)
			}
		}
	}
}
