package forward_test

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/benchrate"
	"github.com/logbookhq/logbook/internal/servertest"
)

// richAudit returns the i-th of a run of audit events of about 600 bytes
// (details, session, location), like the busiest real stream.
func richAudit(i int, ts time.Time) *events.AuditEvent {
	return &events.AuditEvent{
		UUID: fmt.Sprintf("A%025d", i), Timestamp: ts,
		ActorUUID:    "IR7VJHJ36JHINBFAD7V2T5MP3E",
		ActorDetails: &events.User{UUID: "IR7VJHJ36JHINBFAD7V2T5MP3E", Name: "Test User", Email: "usera@example.com"},
		Action:       "reveal", ObjectType: "item", ObjectUUID: events.Str(fmt.Sprintf("OBJ%023d", i%977)),
		AuxUUID: "VAULTVAULTVAULTVAULTVAULT2", AuxInfo: "Revealed the password of item " + fmt.Sprint(i%977),
		Session:  &events.Session{UUID: "ODOHXUYQCJBUJKRGZNNPBJURPE", LoginTime: ts.Add(-time.Hour), DeviceUUID: "rqtd557fn2husnstp5nc66w2xa", IP: "198.51.100.23"},
		Location: &events.Location{Country: "Canada", Region: "Ontario", City: "Toronto", Latitude: 43.6532, Longitude: -79.3832},
	}
}

// appendAudit stores n rich audit events with timestamps from start, in
// chunks, and returns their uuids.
func appendAudit(t testing.TB, srv *servertest.Server, first, n int, start time.Time) map[string]bool {
	t.Helper()
	uuids := make(map[string]bool, n)
	const chunk = 5000
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		evs := make([]any, 0, hi-lo)
		for i := lo; i < hi; i++ {
			ev := richAudit(first+i, start.Add(time.Duration(i)*time.Millisecond))
			evs = append(evs, ev)
			uuids[ev.UUID] = true
		}
		if got := srv.Append(t, evs...); got != len(evs) {
			t.Fatalf("Append stored %d events, want %d", got, len(evs))
		}
	}
	return uuids
}

func countLines(t testing.TB, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(data, []byte{'\n'})
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

// cpuTime is the CPU time of the process so far.
var cpuTime = benchrate.CPU
