package events_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
)

// v3Name is target.attribute.verb with the attribute optional.
var v3Name = regexp.MustCompile(`^[a-z][a-z-]*(\.[a-z][a-z-]*){1,3}$`)

// TestV3ActionsCoverTheCatalog holds the mapping table to every object type
// and action of the v2 catalog, and to nothing else: each pair has one v3
// name of the documented form, and no two pairs share one.
func TestV3ActionsCoverTheCatalog(t *testing.T) {
	seen := map[string]string{}
	for obj, actions := range events.AuditCatalog {
		for _, a := range actions {
			name, ok := events.V3Actions[obj][a]
			if !ok {
				t.Errorf("%s/%s: no v3 action", obj, a)
				continue
			}
			if !v3Name.MatchString(name) {
				t.Errorf("%s/%s: %q is not target.attribute.verb", obj, a, name)
			}
			if other, dup := seen[name]; dup {
				t.Errorf("%s/%s and %s both map to %s", obj, a, other, name)
			}
			seen[name] = obj + "/" + a
		}
	}
	for obj, actions := range events.V3Actions {
		for a := range actions {
			if !slices.Contains(events.AuditCatalog[obj], a) {
				t.Errorf("V3Actions has %s/%s, which the catalog lacks", obj, a)
			}
		}
	}
	for _, obj := range events.AuditObjectTypes {
		if len(events.V3Actions[obj]) == 0 {
			t.Errorf("object type %s: no v3 actions", obj)
		}
	}
	for _, name := range events.V3Documented {
		if _, ok := seen[name]; !ok {
			t.Errorf("documented %s is in no entry", name)
		}
	}
	if got := events.V3Action("satoken", "create"); got != "service-account.token.create" {
		t.Errorf("satoken/create = %s, the documented example is service-account.token.create", got)
	}
	if got := events.V3Action("newobj", "newverb"); got != "newobj.newverb" {
		t.Errorf("an unlisted pair = %s, want newobj.newverb", got)
	}
}

// TestV3SimulatedEvents maps every audit event of a fortnight of simulated
// activity: each action/object type pair the simulator produces is in the
// table, and the v3 rendering is byte for byte what encoding/json makes of
// it, with the object as first target and the v2 event's fields kept.
func TestV3SimulatedEvents(t *testing.T) {
	t.Parallel()
	days := 14
	if testing.Short() {
		days = 3
	}
	pairs := map[string]bool{}
	var buf []byte
	for _, ev := range simulated(t, 11, days) {
		e, ok := ev.(*events.AuditEvent)
		if !ok {
			continue
		}
		if _, ok := events.V3Actions[e.ObjectType][e.Action]; !ok {
			t.Fatalf("%s: %s/%s has no v3 action", e.UUID, e.ObjectType, e.Action)
		}
		pairs[e.ObjectType+"/"+e.Action] = true
		inserted := e.Timestamp.Add(90 * time.Second)
		v := e.V3(inserted)
		want, err := json.Marshal(&v)
		if err != nil {
			t.Fatal(err)
		}
		if buf, err = v.AppendJSON(buf[:0]); err != nil {
			t.Fatal(err)
		}
		if string(buf) != string(want) {
			t.Fatalf("%s:\nAppendJSON %s\njson       %s", e.UUID, buf, want)
		}
		if v.Action != events.V3Actions[e.ObjectType][e.Action] || v.UUID != e.UUID || !v.Timestamp.Equal(e.Timestamp) || !v.InsertTime.Equal(inserted) ||
			v.Actor.UUID != e.ActorUUID || len(v.Targets) == 0 || (e.ObjectUUID != nil && v.Targets[0].UUID != *e.ObjectUUID) ||
			v.Context.Location != e.Location || (e.Session != nil && v.Context.Session.UUID != e.Session.UUID) {
			t.Fatalf("%s: v3 %+v does not carry v2 %+v", e.UUID, v, e)
		}
	}
	if len(pairs) < 20 {
		t.Fatalf("only %d action/object type pairs simulated", len(pairs))
	}
	names := make([]string, 0, len(pairs))
	for p := range pairs {
		names = append(names, p)
	}
	sort.Strings(names)
	t.Logf("%d pairs: %v", len(names), names)
}

// TestV3Rendering pins the v3 bytes of one event with an auxiliary user,
// and of one with the fewest members.
func TestV3Rendering(t *testing.T) {
	ts := time.Date(2026, 3, 2, 10, 4, 5, 123000000, time.UTC)
	full := events.AuditEvent{
		UUID: "EVENTUUIDAAAAAAAAAAAAAAAAA", Timestamp: ts, ActorUUID: "ACTORUUIDAAAAAAAAAAAAAAAAA",
		ActorDetails: &events.User{UUID: "ACTORUUIDAAAAAAAAAAAAAAAAA", Name: "Ada", Email: "ada@example.com"},
		Action:       "grant", ObjectType: "uva", ObjectUUID: events.Str("vaultuuidaaaaaaaaaaaaaaaaa"),
		AuxID: 7, AuxUUID: "AUXUUIDAAAAAAAAAAAAAAAAAAA", AuxDetails: &events.User{UUID: "AUXUUIDAAAAAAAAAAAAAAAAAAA", Name: "Bo", Email: "bo@example.com"},
		AuxInfo: "R", Session: &events.Session{UUID: "SESSIONAAAAAAAAAAAAAAAAAAA", LoginTime: ts.Add(-time.Hour), DeviceUUID: "deviceaaaaaaaaaaaaaaaaaaaa", IP: "192.0.2.1"},
		Location: &events.Location{Country: "Canada", City: "Toronto"}, ActorType: "user", AccountUUID: "ACCOUNTAAAAAAAAAAAAAAAAAAA",
	}
	bare := events.AuditEvent{UUID: "EVENTUUIDBBBBBBBBBBBBBBBBB", Timestamp: ts, ActorUUID: "ACTORUUIDAAAAAAAAAAAAAAAAA", Action: "create", ObjectType: "satoken"}
	for _, c := range []struct {
		ev   events.AuditEvent
		want string
	}{
		{full, `{"uuid":"EVENTUUIDAAAAAAAAAAAAAAAAA","timestamp":"2026-03-02T10:04:05.123Z","insert_time":"2026-03-02T10:05:00.987654321Z","action":"vault.user-access.grant",` +
			`"actor":{"uuid":"ACTORUUIDAAAAAAAAAAAAAAAAA","type":"user","name":"Ada","email":"ada@example.com"},` +
			`"targets":[{"type":"vault","uuid":"vaultuuidaaaaaaaaaaaaaaaaa"},{"type":"user","uuid":"AUXUUIDAAAAAAAAAAAAAAAAAAA","name":"Bo","email":"bo@example.com","id":7,"info":"R"}],` +
			`"context":{"account":{"uuid":"ACCOUNTAAAAAAAAAAAAAAAAAAA"},"session":{"uuid":"SESSIONAAAAAAAAAAAAAAAAAAA","login_time":"2026-03-02T09:04:05.123Z","ip":"192.0.2.1"},` +
			`"device":{"uuid":"deviceaaaaaaaaaaaaaaaaaaaa"},"location":{"country":"Canada","city":"Toronto"}}}`},
		{bare, `{"uuid":"EVENTUUIDBBBBBBBBBBBBBBBBB","timestamp":"2026-03-02T10:04:05.123Z","insert_time":"2026-03-02T10:05:00.987654321Z","action":"service-account.token.create",` +
			`"actor":{"uuid":"ACTORUUIDAAAAAAAAAAAAAAAAA","type":"user"},"targets":[{"type":"service-account"}],"context":{}}`},
	} {
		v := c.ev.V3(time.Date(2026, 3, 2, 10, 5, 0, 987654321, time.UTC))
		got, err := v.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
		if m, _ := json.Marshal(&v); string(m) != c.want {
			t.Errorf("json.Marshal %s", m)
		}
	}
}
