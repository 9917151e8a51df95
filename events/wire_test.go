package events

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

// TestEncodeV1MatchesMarshal: the v1 bytes Encode derives by cutting v2's
// trailing fields equal a plain marshal of V1(), for every shape of v2-only
// field.
func TestEncodeV1MatchesMarshal(t *testing.T) {
	var cribl []AuditEvent
	b, err := os.ReadFile("testdata/reference/cribl/v2_auditevents_sample.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cribl); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	user := User{UUID: NewID(), Name: `Q "quoted", "actor_type":`, Email: "q@example.com"}
	v2user := user
	v2user.UserType, v2user.UserAccountUUID = "external_user", NewID()
	var evs []any
	for _, e := range cribl {
		evs = append(evs, e)
		e.ActorType = ""
		evs = append(evs, e)
		e.ActorAccountUUID = NewID()
		evs = append(evs, e)
		e.AuxInfo = `,"account_uuid":"x"`
		evs = append(evs, e)
		e.ActorDetails = &v2user
		evs = append(evs, e)
	}
	evs = append(evs,
		SignInAttempt{UUID: NewID(), Timestamp: ts, TargetUser: user},
		SignInAttempt{UUID: NewID(), Timestamp: ts, TargetUser: user, AccountUUID: NewID()},
		SignInAttempt{UUID: NewID(), Timestamp: ts, TargetUser: v2user, AccountUUID: NewID()},
		ItemUsage{UUID: NewID(), Timestamp: ts, User: user, Action: "fill"},
		ItemUsage{UUID: NewID(), Timestamp: ts, User: user, AccountUUID: NewID()},
		ItemUsage{UUID: NewID(), Timestamp: ts, User: v2user},
	)
	for i, ev := range evs {
		w, err := Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		switch e := ev.(type) {
		case AuditEvent:
			want, _ = json.Marshal(e.V1())
		case SignInAttempt:
			want, _ = json.Marshal(e.V1())
		case ItemUsage:
			want, _ = json.Marshal(e.V1())
		}
		got := w.V1
		if got == nil {
			got = w.V2
		}
		if string(got) != string(want) {
			t.Errorf("event %d: v1 =\n%s\nwant\n%s", i, got, want)
		}
	}
}

// BenchmarkEncode encodes the reference events of each kind in turn, passed
// as pointers the way ingestion and the simulator pass them. The audit
// events are mostly v2 (cribl), so their v1 rendering is derived; MSP adds
// v2 user fields to every audit event, which forces a second v1 rendering.
func BenchmarkEncode(b *testing.B) {
	signins, usages, audits := referenceEvents(b)
	var msp []any
	for _, ev := range audits {
		e := *ev.(*AuditEvent)
		if e.ActorDetails != nil {
			u := *e.ActorDetails
			u.UserType, u.UserAccountUUID = "external_user", "KHUVUCTBHVDSNDHXKDGM7UESYU"
			e.ActorDetails = &u
		}
		e.AccountUUID = "KHUVUCTBHVDSNDHXKDGM7UESYU"
		msp = append(msp, &e)
	}
	for _, k := range []struct {
		name string
		evs  []any
	}{{"SignInAttempt", signins}, {"ItemUsage", usages}, {"AuditEvent", audits}, {"AuditEventMSP", msp}} {
		b.Run(k.name, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			i := 0
			for b.Loop() {
				if _, err := Encode(k.evs[i%len(k.evs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// ReportCPU lets the benchmarks of package events_test use reportCPU.
var ReportCPU = reportCPU

// reportCPU, deferred at the start of a benchmark, adds the process CPU
// time per operation (cpu-ns/op): on a shared machine wall time also counts
// waiting for a core.
func reportCPU(b *testing.B) func() {
	start, ok := processCPU()
	return func() {
		if end, _ := processCPU(); ok && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
