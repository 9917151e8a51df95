package cli

import (
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/sink/file"
	"github.com/logbookhq/logbook/internal/sink/httpsink"
	"github.com/logbookhq/logbook/internal/sink/stdout"
)

// sinkTypes maps a sink's "type" in the forwarder configuration to its
// constructor. Adding a sink is one line here; see internal/forward/doc.go
// for the contract a constructor follows.
var sinkTypes = map[string]forward.NewSinkFunc{
	"file":   file.New,
	"stdout": stdout.New,
	"http":   httpsink.New,
}
