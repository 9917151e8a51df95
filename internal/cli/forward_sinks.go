package cli

import (
	"github.com/logbookhq/logbook/internal/forward"
	"github.com/logbookhq/logbook/internal/sink/elastic"
	"github.com/logbookhq/logbook/internal/sink/file"
	"github.com/logbookhq/logbook/internal/sink/httpsink"
	logbooksink "github.com/logbookhq/logbook/internal/sink/logbook"
	natssink "github.com/logbookhq/logbook/internal/sink/nats"
	"github.com/logbookhq/logbook/internal/sink/splunk"
	"github.com/logbookhq/logbook/internal/sink/stdout"
	"github.com/logbookhq/logbook/internal/sink/syslog"
)

// sinkTypes maps a sink's "type" in the forwarder configuration to its
// constructor. Adding a sink is one line here; see internal/forward/doc.go
// for the contract a constructor follows.
var sinkTypes = map[string]forward.NewSinkFunc{
	"file":   file.New,
	"stdout": stdout.New,
	"http":   httpsink.New,

	"splunk_hec":    splunk.New,
	"elasticsearch": elastic.New,
	"syslog":        syslog.New,
	"nats":          natssink.New,
	"logbook":       logbooksink.New,
}
