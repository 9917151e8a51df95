// Package skipper skips its tests through testenv, for testenv's
// TestGoTestShowsSkips, which runs go test on it.
package skipper

import (
	"testing"

	"github.com/logbookhq/logbook/internal/testenv"
)

func TestWidgetOne(t *testing.T) {
	testenv.Unavailable(t, "no widget here (set TESTENV_WIDGET to run)")
}

func TestWidgetTwo(t *testing.T) {
	t.Parallel()
	testenv.Unavailable(t, "no widget here (set TESTENV_WIDGET to run)")
}

func TestGadget(t *testing.T) {
	testenv.Unavailable(t, "no %s here", "gadget")
}

func TestRuns(t *testing.T) {}
