package api

import (
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
)

// TestAuditOnV1Bytes: reading action and object type from the stored bytes
// agrees with events.AuditOnV1 for every pair of the catalog, however the
// event's strings try to look like those members.
func TestAuditOnV1Bytes(t *testing.T) {
	for o, as := range events.AuditCatalog {
		for _, a := range as {
			for _, name := range []string{"Wendy", `x","action":"expire","object_type":"cred`, `"action":"create"`} {
				e := events.AuditEvent{UUID: events.NewID(), Timestamp: time.Unix(1e9, 0).UTC(), ActorUUID: events.NewID(),
					ActorDetails: &events.User{UUID: events.NewID(), Name: name, Email: "w@example.com"},
					Action:       a, ObjectType: o, AuxInfo: name}
				w, err := events.Encode(&e)
				if err != nil {
					t.Fatal(err)
				}
				v1 := w.V1
				if v1 == nil {
					v1 = w.V2
				}
				if got, want := auditOnV1(v1), events.AuditOnV1(a, o); got != want {
					t.Errorf("%s/%s, name %q: auditOnV1 = %v, want %v\n%s", a, o, name, got, want, v1)
				}
			}
		}
	}
	for data, want := range map[string]bool{
		`{"action":"\u0065xpire","object_type":"sa"}`: false, // escaped: decoded
		`{"object_type":"cred","action":"create"}`:    false,
		`{"action":"create","object_type":"vault"}`:   true,
		`{"object_type":"mngdacc"}`:                   false,
		`not JSON`:                                    true,
	} {
		if got := auditOnV1([]byte(data)); got != want {
			t.Errorf("auditOnV1(%s) = %v, want %v", data, got, want)
		}
	}
}

// BenchmarkAuditOnV1 is the cost v1 audit pages pay per event.
func BenchmarkAuditOnV1(b *testing.B) {
	e := events.AuditEvent{UUID: events.NewID(), Timestamp: time.Unix(1e9, 0).UTC(), ActorUUID: events.NewID(),
		ActorDetails: &events.User{UUID: events.NewID(), Name: "Wendy Appleseed", Email: "wendy@example.com"},
		Action:       "create", ObjectType: "vault", ObjectUUID: events.Str(events.NewID()),
		Session:  &events.Session{UUID: events.NewID(), LoginTime: time.Unix(1e9, 0).UTC(), DeviceUUID: events.NewID(), IP: "192.0.2.1"},
		Location: &events.Location{Country: "CA", Region: "Ontario", City: "Toronto", Latitude: 43.6, Longitude: -79.4}}
	w, err := events.Encode(&e)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !auditOnV1(w.V2) {
			b.Fatal("vault/create is on v1")
		}
	}
}
