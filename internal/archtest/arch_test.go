package archtest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const module = "github.com/logbookhq/logbook"

// pkg is one package of the module as go list reports it.
type pkg struct {
	Path    string
	Name    string
	GoFiles int
	Imports []string
	Deps    []string
	Doc     string
}

// modulePackages lists the module's packages once for all tests (loading
// the package graph is most of what go list costs).
var modulePackages = sync.OnceValues(func() ([]pkg, error) {
	const sep = "\x1f"
	out, err := exec.Command("go", "list", "-e", "-f",
		"{{.ImportPath}}"+sep+"{{.Name}}"+sep+"{{len .GoFiles}}"+sep+"{{join .Imports \" \"}}"+sep+"{{join .Deps \" \"}}"+sep+"{{.Doc}}",
		module+"/...").Output()
	if err != nil {
		return nil, err
	}
	var pkgs []pkg
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, sep)
		n, _ := strconv.Atoi(f[2])
		pkgs = append(pkgs, pkg{Path: f[0], Name: f[1], GoFiles: n,
			Imports: strings.Fields(f[3]), Deps: strings.Fields(f[4]), Doc: f[5]})
	}
	return pkgs, nil
})

func packages(t *testing.T) []pkg {
	t.Helper()
	pkgs, err := modulePackages()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return pkgs
}

// rel is path relative to the module, for messages and the layout table.
func rel(path string) string {
	if r, ok := strings.CutPrefix(path, module+"/"); ok {
		return r
	}
	return path
}

// standard reports whether path is a standard library package: its first
// element has no dot (go list's Deps include them without saying so).
func standard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// own reports whether path is a package of this module.
func own(path string) bool { return path == module || strings.HasPrefix(path, module+"/") }

// TestPublicPackagesStayLean: events, proof and client are what other
// programs import; they must not drag in Logbook's internals, a database
// driver or any third-party package.
func TestPublicPackagesStayLean(t *testing.T) {
	t.Parallel()
	seen := 0
	for _, p := range packages(t) {
		if p.Path != module+"/events" && p.Path != module+"/proof" && p.Path != module+"/client" {
			continue
		}
		seen++
		for _, dep := range p.Deps {
			switch {
			case dep == "database/sql":
				t.Errorf("%s imports database/sql", p.Path)
			case strings.HasPrefix(dep, module+"/internal"):
				t.Errorf("%s imports %s", p.Path, dep)
			case !own(dep) && !standard(dep):
				t.Errorf("%s imports the third-party package %s", p.Path, dep)
			}
		}
	}
	if seen != 3 {
		t.Fatalf("go list gave %d of the packages events, proof and client", seen)
	}
}

// rule is one row of the layout table in docs/design.md.
type rule struct {
	pattern  string   // a package path relative to the module, or "dir/*"
	allowed  []string // full import paths (module ones made whole) and third-party module paths; "*" is anything
	testOnly bool
	used     bool
}

var backticked = regexp.MustCompile("`([^`]+)`")

// layout reads the table under "## Layout" in docs/design.md: package(s),
// role, may import. A role starting "test only" marks a test-only package.
func layout(t *testing.T) []*rule {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "docs", "design.md")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rules []*rule
	inLayout := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			inLayout = line == "## Layout"
			continue
		}
		if !inLayout || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) != 3 {
			t.Fatalf("design.md layout row has %d cells, want 3 (package | role | may import): %s", len(cells), line)
		}
		var allowed []string
		for _, m := range backticked.FindAllStringSubmatch(cells[2], -1) {
			a := m[1]
			if a != "*" && standard(a) {
				a = module + "/" + a
			}
			allowed = append(allowed, a)
		}
		testOnly := strings.HasPrefix(strings.ToLower(strings.TrimSpace(cells[1])), "test only")
		for _, m := range backticked.FindAllStringSubmatch(cells[0], -1) {
			rules = append(rules, &rule{pattern: m[1], allowed: allowed, testOnly: testOnly})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rules) == 0 {
		t.Fatalf("%s: no layout table under ## Layout", path)
	}
	return rules
}

// ruleFor is the row for path: its own, else the "dir/*" row of its
// parent directory.
func ruleFor(rules []*rule, path string) *rule {
	path = rel(path)
	for _, r := range rules {
		if r.pattern == path {
			return r
		}
	}
	for _, r := range rules {
		if dir, ok := strings.CutSuffix(r.pattern, "/*"); ok && filepath.Dir(path) == dir {
			return r
		}
	}
	return nil
}

func (r *rule) allows(imp string) bool {
	if standard(imp) {
		return true
	}
	for _, a := range r.allowed {
		if a == "*" || a == imp {
			return true
		}
		if !own(imp) && strings.HasPrefix(imp, a+"/") {
			return true // a third-party module's subpackage
		}
	}
	return false
}

// TestLayout: every package has a row in the docs/design.md layout table
// and imports only what that row allows; no row names a package that is
// gone; production code never depends, even indirectly, on a test-only
// package, and does not import "testing".
func TestLayout(t *testing.T) {
	t.Parallel()
	pkgs := packages(t)
	rules := layout(t)
	testOnly := map[string]bool{}
	for _, p := range pkgs {
		if r := ruleFor(rules, p.Path); r != nil && r.testOnly {
			testOnly[p.Path] = true
		}
	}
	for _, p := range pkgs {
		r := ruleFor(rules, p.Path)
		if r == nil {
			t.Errorf("package %s has no row in the layout table of docs/design.md; add one saying what it may import", rel(p.Path))
			continue
		}
		r.used = true
		for _, imp := range p.Imports {
			if !r.allows(imp) {
				t.Errorf("%s imports %s, which its row in docs/design.md does not allow", rel(p.Path), rel(imp))
			}
		}
		if testOnly[p.Path] {
			continue
		}
		for _, dep := range p.Deps {
			if testOnly[dep] {
				t.Errorf("%s (production code) depends on the test-only package %s", rel(p.Path), rel(dep))
			}
		}
		if slices.Contains(p.Imports, "testing") {
			t.Errorf("%s (production code) imports testing", rel(p.Path))
		}
	}
	for _, r := range rules {
		if !r.used {
			t.Errorf("docs/design.md has a layout row for %s, which matches no package", r.pattern)
		}
	}
}

// TestPackageDocs: every package says what it is for in a comment that
// starts "Package <name>" (or "Command <name>" for main packages).
func TestPackageDocs(t *testing.T) {
	t.Parallel()
	for _, p := range packages(t) {
		if p.GoFiles == 0 {
			continue // test files only
		}
		if !strings.HasPrefix(p.Doc, "Package "+p.Name+" ") && !strings.HasPrefix(p.Doc, "Command ") {
			t.Errorf("package %s in %s has no doc comment starting %q", p.Name, rel(p.Path), "Package "+p.Name)
		}
	}
}
