package cli

import "github.com/logbookhq/logbook/internal/forward"

// AddSinkType makes a sink type available to the forward commands for the
// rest of the test binary; cli_test tests use it to plug in sinks that
// record what the forwarder does with them.
func AddSinkType(name string, fn forward.NewSinkFunc) { sinkTypes[name] = fn }
