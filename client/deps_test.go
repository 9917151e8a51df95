package client

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies guards the package's promise: only the standard library
// and package events.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		switch p {
		case "github.com/logbookhq/logbook/client", "github.com/logbookhq/logbook/events":
		default:
			t.Errorf("client depends on %s; it may import only the standard library and events", p)
		}
	}
}
