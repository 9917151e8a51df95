package cli

import "github.com/logbookhq/logbook/internal/forward"

// sinkTypes maps a sink's "type" in the forwarder configuration to its
// constructor. Adding a sink is one line here; see internal/forward/doc.go
// for the contract a constructor follows.
var sinkTypes = map[string]forward.NewSinkFunc{}
