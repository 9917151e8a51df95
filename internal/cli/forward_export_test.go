package cli

import (
	"testing"

	"github.com/logbookhq/logbook/internal/forward"
)

// AddSinkType makes a sink type available to the forward commands until
// the test ends; cli_test tests use it to plug in sinks that record what
// the forwarder does with them. The test must not be parallel.
func AddSinkType(t testing.TB, name string, fn forward.NewSinkFunc) {
	sinkTypes[name] = fn
	t.Cleanup(func() { delete(sinkTypes, name) })
}
