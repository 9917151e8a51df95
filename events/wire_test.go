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

func BenchmarkEncode(b *testing.B) {
	raw, _ := os.ReadFile("testdata/reference/cribl/v2_auditevents_sample.json")
	var evs []AuditEvent
	_ = json.Unmarshal(raw, &evs)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := Encode(&evs[i%len(evs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
