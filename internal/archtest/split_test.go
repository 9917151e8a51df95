package archtest

import (
	"slices"
	"strings"
	"testing"
)

// TestSplitPackagesImports: the packages issue 15 split out stay small
// and below their users. apikey (the one API-key implementation) and
// scorecard (the connector scorecard) import only what docs/design.md
// gives them, and the console reaches the scorecard without the sandbox.
func TestSplitPackagesImports(t *testing.T) {
	t.Parallel()
	allowed := map[string][]string{
		"internal/apikey":    {"events", "internal/store"},
		"internal/scorecard": {"events", "internal/api", "internal/store"},
		"internal/console":   nil, // checked for what it must not import
	}
	forbidden := map[string][]string{
		"internal/console": {"internal/sandbox"},
		"internal/admin":   {"internal/adminapi", "internal/console", "internal/cli"},
	}
	var pkgs []string
	for p := range allowed {
		pkgs = append(pkgs, module+"/"+p)
	}
	pkgs = append(pkgs, module+"/internal/admin")
	lines := goListLines(t, append([]string{"-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}"}, pkgs...)...)
	if len(lines) != len(pkgs) {
		t.Fatalf("go list gave %d packages, want %d", len(lines), len(pkgs))
	}
	for _, line := range lines {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module+"/")
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module+"/") {
				if !standard(imp) && allowed[pkg] != nil {
					t.Errorf("%s imports the third-party package %s", pkg, imp)
				}
				continue
			}
			rel := strings.TrimPrefix(imp, module+"/")
			if want, ok := allowed[pkg]; ok && want != nil && !slices.Contains(want, rel) {
				t.Errorf("%s imports %s; it may import %v and the standard library", pkg, rel, want)
			}
			if slices.Contains(forbidden[pkg], rel) {
				t.Errorf("%s imports %s, which it must not", pkg, rel)
			}
		}
	}
}
