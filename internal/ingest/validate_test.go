package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/simulate"
)

// valid returns one valid event of each kind as a generic JSON object, to
// be broken one field at a time.
func valid(kind events.Feature) map[string]any {
	var v any
	switch kind {
	case events.SignInAttempts:
		v = events.SignInAttempt{UUID: "56YE2TYN2VFYRLNSHKPW5NVT5E", SessionUUID: "A2345678901234567890123456"[:0] + "AAAAAAAAAAAAAAAAAAAAAAAAAA",
			Timestamp: time.Date(2025, 7, 28, 19, 32, 38, 440749100, time.UTC), Country: "CA", Category: "firewall_failed",
			Type: "country_blocked", Details: &events.Details{Value: "Europe"},
			TargetUser: events.User{UUID: "BBBBBBBBBBBBBBBBBBBBBBBBBB", Name: "Ada", Email: "ada@example.com"},
			Client:     events.Client{AppName: "1Password for Web", AppVersion: "1817", IPAddress: "192.0.2.1"},
			Location:   &events.Location{Country: "Canada", City: "Toronto", Latitude: 43.64, Longitude: -79.433}}
	case events.ItemUsages:
		v = events.ItemUsage{UUID: "CCCCCCCCCCCCCCCCCCCCCCCCCC", Timestamp: time.Date(2025, 7, 28, 19, 0, 0, 0, time.UTC), UsedVersion: 3,
			VaultUUID: "jaqxqf5qylslqiitnduawrndc5", ItemUUID: "rqtd557fn2husnstp5nc66w2xa",
			User:   events.User{UUID: "BBBBBBBBBBBBBBBBBBBBBBBBBB", Name: "Ada", Email: "ada@example.com"},
			Client: events.Client{AppName: "1Password CLI", IPAddress: "2001:db8::1"}, Action: "reveal"}
	case events.AuditEvents:
		v = events.AuditEvent{UUID: "DDDDDDDDDDDDDDDDDDDDDDDDDD", Timestamp: time.Date(2025, 7, 28, 19, 0, 0, 0, time.UTC),
			ActorUUID: "BBBBBBBBBBBBBBBBBBBBBBBBBB", ActorDetails: &events.User{UUID: "BBBBBBBBBBBBBBBBBBBBBBBBBB", Name: "Ada", Email: "ada@example.com"},
			Action: "join", ObjectType: "gm", ObjectUUID: events.Str("EEEEEEEEEEEEEEEEEEEEEEEEEE"), AuxID: 7, AuxInfo: "A",
			Session:   &events.Session{UUID: "FFFFFFFFFFFFFFFFFFFFFFFFFF", LoginTime: time.Date(2025, 7, 28, 18, 0, 0, 0, time.UTC), DeviceUUID: "jaqxqf5qylslqiitnduawrndc5", IP: "192.0.2.1"},
			ActorType: "user", AccountUUID: "GGGGGGGGGGGGGGGGGGGGGGGGGG"}
	}
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// set changes the value at a dotted path; a nil value deletes the key.
func set(m map[string]any, path string, v any) map[string]any {
	parts := strings.Split(path, ".")
	cur := m
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	last := parts[len(parts)-1]
	if v == nil {
		delete(cur, last)
	} else {
		cur[last] = v
	}
	return m
}

type del struct{}

func TestValidEventsRoundTrip(t *testing.T) {
	for _, kind := range events.AllFeatures {
		t.Run(string(kind), func(t *testing.T) {
			in := valid(kind)
			b, _ := json.Marshal([]any{in})
			wires, errs := DecodeAll(bytes.NewReader(b), kind)
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			// The stored bytes are events.Encode's, field order included,
			// whatever order the input had (json.Marshal of a map sorts keys).
			var want events.Wire
			switch kind {
			case events.SignInAttempts:
				var e events.SignInAttempt
				_ = json.Unmarshal(b[1:len(b)-1], &e)
				want, _ = events.Encode(e)
			case events.ItemUsages:
				var e events.ItemUsage
				_ = json.Unmarshal(b[1:len(b)-1], &e)
				want, _ = events.Encode(e)
			case events.AuditEvents:
				var e events.AuditEvent
				_ = json.Unmarshal(b[1:len(b)-1], &e)
				want, _ = events.Encode(e)
			}
			if diff := cmp.Diff(want, wires[0]); diff != "" {
				t.Errorf("wire (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSimulatedEventsValidate: every event the simulator makes (which
// covers every enum value) passes validation and is stored unchanged.
func TestSimulatedEventsValidate(t *testing.T) {
	sim := simulate.New(simulate.Config{Seed: 7, Start: time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC), Users: 15})
	var buf bytes.Buffer
	var want []events.Wire
	err := sim.Run(time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC), func(it simulate.Item) error {
		w, err := events.Encode(it.Event)
		if err != nil {
			return err
		}
		want = append(want, w)
		buf.WriteString(`{"kind":"` + string(w.Feature) + `","event":`)
		buf.Write(w.V2)
		buf.WriteString("}\n")
		return nil
	})
	if err != nil || len(want) < 100 {
		t.Fatalf("simulate: %d events, %v", len(want), err)
	}
	got, errs := DecodeAll(&buf, "")
	if len(errs) > 0 {
		t.Fatalf("event %d: %v", errs[0].Line, errs[0])
	}
	if len(got) != len(want) {
		t.Fatalf("decoded %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if diff := cmp.Diff(want[i], got[i]); diff != "" {
			t.Fatalf("event %d (-want +got):\n%s", i+1, diff)
		}
	}
}

func TestInvalidFields(t *testing.T) {
	long := strings.Repeat("x", MaxFieldLen+1)
	for _, tc := range []struct {
		name   string
		kind   events.Feature
		field  string
		value  any // del{} removes the field
		reason string
	}{
		{"uuid lower case", events.SignInAttempts, "uuid", "jaqxqf5qylslqiitnduawrndc5", "upper-case base32"},
		{"uuid short", events.AuditEvents, "uuid", "ABC", "26-character"},
		{"session_uuid missing", events.SignInAttempts, "session_uuid", del{}, "is required"},
		{"timestamp missing", events.SignInAttempts, "timestamp", del{}, "is required"},
		{"timestamp not RFC 3339", events.ItemUsages, "timestamp", "2025-07-28 19:00:00", "RFC 3339"},
		{"timestamp a number", events.ItemUsages, "timestamp", 1700000000, "must be a string, not a number"},
		{"category unknown", events.SignInAttempts, "category", "bogus", "is not one of"},
		{"type of another category", events.SignInAttempts, "type", "credentials_ok", "does not belong to category firewall_failed"},
		{"type unknown", events.SignInAttempts, "type", "u2f_failed", "is not a sign-in type"},
		{"country missing", events.SignInAttempts, "country", del{}, "is required"},
		{"target_user missing", events.SignInAttempts, "target_user", del{}, "is required"},
		{"target_user email", events.SignInAttempts, "target_user.email", "not-an-address", "e-mail"},
		{"target_user uuid", events.SignInAttempts, "target_user.uuid", "bbbbbbbbbbbbbbbbbbbbbbbbbb", "upper-case"},
		{"user_type", events.SignInAttempts, "target_user.user_type", "admin", "is not one of user, external_user"},
		{"client ip", events.SignInAttempts, "client.ip_address", "999.1.1.1", "not an IP address"},
		{"client app_name missing", events.ItemUsages, "client.app_name", del{}, "is required"},
		{"client missing", events.ItemUsages, "client", del{}, "is required"},
		{"latitude", events.SignInAttempts, "location.latitude", 123.0, "between -90 and 90"},
		{"longitude", events.SignInAttempts, "location.longitude", -200.0, "between -180 and 180"},
		{"details not an object", events.SignInAttempts, "details", "Europe", "must be an object, not a string"},
		{"nested unknown field", events.SignInAttempts, "client.colour", "blue", "unknown field"},
		{"field too long", events.SignInAttempts, "target_user.name", long, "more than 1024"},
		{"unknown field", events.SignInAttempts, "colour", "blue", "unknown field"},
		{"vault upper case", events.ItemUsages, "vault_uuid", "JAQXQF5QYLSLQIITNDUAWRNDC5", "lower-case"},
		{"item missing", events.ItemUsages, "item_uuid", del{}, "is required"},
		{"used_version missing", events.ItemUsages, "used_version", del{}, "is required"},
		{"used_version negative", events.ItemUsages, "used_version", -1, "negative"},
		{"used_version fractional", events.ItemUsages, "used_version", 1.5, "must be an integer, not the number 1.5"},
		{"action unknown", events.ItemUsages, "action", "copy", "is not one of"},
		{"audit action unknown", events.AuditEvents, "action", "frobnicate", "is not one of"},
		{"audit object_type unknown", events.AuditEvents, "object_type", "LOGIN", "is not one of"},
		{"audit pair not in catalogue", events.AuditEvents, "action", "suspend", "is not an action on object_type gm"},
		{"actor_uuid missing", events.AuditEvents, "actor_uuid", del{}, "is required"},
		{"object_uuid not an id", events.AuditEvents, "object_uuid", "1234-5678", "base32 id"},
		{"aux_id negative", events.AuditEvents, "aux_id", -3, "negative"},
		{"session login_time", events.AuditEvents, "session.login_time", "yesterday", "RFC 3339"},
		{"session device upper", events.AuditEvents, "session.device_uuid", "JAQXQF5QYLSLQIITNDUAWRNDC5", "lower-case"},
		{"session ip", events.AuditEvents, "session.ip", "localhost", "not an IP address"},
		{"actor_type", events.AuditEvents, "actor_type", "robot", "is not one of"},
		{"account_uuid", events.AuditEvents, "account_uuid", "nope", "upper-case"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v any = tc.value
			if _, ok := v.(del); ok {
				v = nil
			}
			good := valid(tc.kind)
			bad := set(valid(tc.kind), tc.field, v)
			b, _ := json.Marshal([]any{good, good, bad})
			wires, errs := DecodeAll(bytes.NewReader(b), tc.kind)
			if len(wires) != 0 {
				t.Errorf("got %d wires from a bad batch, want none", len(wires))
			}
			if len(errs) != 1 {
				t.Fatalf("errors = %v, want exactly one", errs)
			}
			got := errs[0]
			if got.Line != 3 || got.Field != tc.field || !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("error = %+v, want line 3, field %s, reason containing %q", got, tc.field, tc.reason)
			}
		})
	}
}

func TestBodyShapes(t *testing.T) {
	ev, _ := json.Marshal(valid(events.AuditEvents))
	env := `{"kind":"auditevents","event":` + string(ev) + `}`
	for _, tc := range []struct {
		name      string
		body      string
		wantN     int
		wantField string
		wantLine  int
	}{
		{"array", "[" + string(ev) + "," + string(ev) + "]", 2, "", 0},
		{"array with spaces and BOM", "\xef\xbb\xbf \n [ " + string(ev) + " ] \n", 1, "", 0},
		{"empty array", "[]", 0, "", 0},
		{"empty body", "", 0, "", 0},
		{"ndjson", string(ev) + "\n\n" + string(ev) + "\n", 2, "", 0},
		{"ndjson without final newline", string(ev) + "\n" + string(ev), 2, "", 0},
		{"ndjson envelopes", env + "\n" + env + "\n", 2, "", 0},
		{"envelope of another kind", `{"kind":"itemusages","event":` + string(ev) + "}\n", 0, "kind", 1},
		{"ndjson bad line", string(ev) + "\n\n{\"uuid\": \n", 0, "body", 3},
		{"array broken", "[" + string(ev) + ",{\"uuid\":", 0, "body", 2},
		{"array trailing data", "[" + string(ev) + "] x", 0, "body", 1},
		{"neither", `"hello"`, 0, "body", 0},
		{"two values on a line", string(ev) + string(ev) + "\n", 0, "body", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wires, errs := DecodeAll(strings.NewReader(tc.body), events.AuditEvents)
			if tc.wantField == "" {
				if len(errs) > 0 || len(wires) != tc.wantN {
					t.Fatalf("got %d wires, errors %v; want %d, none", len(wires), errs, tc.wantN)
				}
				return
			}
			if len(wires) != 0 || len(errs) == 0 || errs[0].Field != tc.wantField || errs[0].Line != tc.wantLine {
				t.Fatalf("got %d wires, errors %+v; want an error at line %d, field %s", len(wires), errs, tc.wantLine, tc.wantField)
			}
		})
	}
}

// TestAssignedUUID: an event without uuid gets one derived from its
// content, so the same event sent twice is the same event.
func TestAssignedUUID(t *testing.T) {
	ev := set(valid(events.ItemUsages), "uuid", nil)
	b, _ := json.Marshal(ev)
	w1, errs := DecodeAll(bytes.NewReader(b), events.ItemUsages)
	w2, _ := DecodeAll(bytes.NewReader(b), events.ItemUsages)
	if len(errs) > 0 || len(w1) != 1 {
		t.Fatalf("errors %v", errs)
	}
	if !events.ValidUpperID(w1[0].UUID) || w1[0].UUID != w2[0].UUID {
		t.Errorf("uuids %q, %q; want the same valid id", w1[0].UUID, w2[0].UUID)
	}
	if !bytes.HasPrefix(w1[0].V2, []byte(`{"uuid":"`+w1[0].UUID+`","timestamp"`)) {
		t.Errorf("V2 = %s", w1[0].V2)
	}
	var back events.ItemUsage
	if err := json.Unmarshal(w1[0].V2, &back); err != nil || back.UUID != w1[0].UUID {
		t.Errorf("V2 does not decode to the uuid: %v %+v", err, back)
	}
	other := set(valid(events.ItemUsages), "uuid", nil)
	other["used_version"] = 4
	b, _ = json.Marshal(other)
	w3, _ := DecodeAll(bytes.NewReader(b), events.ItemUsages)
	if w3[0].UUID == w1[0].UUID {
		t.Error("two different events got the same assigned uuid")
	}
}

func FuzzDecoder(f *testing.F) {
	ev, _ := json.Marshal(valid(events.SignInAttempts))
	f.Add(ev)
	f.Add([]byte("[" + string(ev) + "]"))
	f.Add([]byte(`{"kind":"signinattempts","event":` + string(ev) + "}\n"))
	f.Add([]byte("[{]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		wires, errs := DecodeAll(bytes.NewReader(b), events.SignInAttempts)
		if len(wires) > 0 && len(errs) > 0 {
			t.Fatal("both wires and errors")
		}
		for _, w := range wires {
			if !events.ValidUpperID(w.UUID) || !json.Valid(w.V2) {
				t.Fatalf("bad wire %+v", w)
			}
		}
	})
}

// stampByTimeParse is checker.stamp without its fast path.
func stampByTimeParse(v string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil || t.Year() < 2000 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func TestParseUTCStamp(t *testing.T) {
	for _, v := range []string{
		"2025-07-28T19:32:38Z", "2025-07-28T19:32:38.4Z", "2025-07-28T19:32:38.440749123Z", "2000-01-01T00:00:00Z",
		"9999-12-31T23:59:59.999999999Z", "2024-02-29T12:00:00Z", "2025-04-30T00:00:00.000Z", "2025-12-31T00:00:00Z",
	} {
		got, ok := parseUTCStamp(v)
		want, _ := stampByTimeParse(v)
		if !ok || got != want {
			t.Errorf("parseUTCStamp(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	for _, v := range []string{
		"", "2025-07-28T19:32:38", "2025-07-28T19:32:38.Z", "2025-07-28T19:32:38.1234567891Z", "2025-07-28t19:32:38Z",
		"2025-07-28T19:32:38z", "1999-12-31T23:59:59Z", "2025-02-29T00:00:00Z", "2025-04-31T00:00:00Z", "2025-13-01T00:00:00Z",
		"2025-00-01T00:00:00Z", "2025-01-00T00:00:00Z", "2025-01-01T24:00:00Z", "2025-01-01T00:60:00Z", "2025-01-01T00:00:60Z",
		"2025-07-28T19:32:38+00:00", "2025-07-28 19:32:38Z", "+025-07-28T19:32:38Z", "2025-07-28T19:32:38,5Z", "2025-07-28T1:032:38Z",
	} {
		if got, ok := parseUTCStamp(v); ok {
			t.Errorf("parseUTCStamp(%q) = %v, want no fast result", v, got)
		}
	}
	// Dates and times around every limit: the fast path takes exactly
	// what time.Parse takes, to the same time.
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		v := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", 1999+rng.IntN(3)*400+rng.IntN(3), rng.IntN(14), rng.IntN(33), rng.IntN(25), rng.IntN(61), rng.IntN(61))
		if n := rng.IntN(11); n > 0 {
			v += "." + fmt.Sprintf("%09d", rng.IntN(1e9))[:n-1]
		}
		v += "Z"
		got, ok := parseUTCStamp(v)
		want, wantOK := stampByTimeParse(v)
		if ok != wantOK || ok && !reflect.DeepEqual(got, want) {
			t.Fatalf("parseUTCStamp(%q) = %v, %v; time.Parse: %v, %v", v, got, ok, want, wantOK)
		}
	}
}

// FuzzParseUTCStamp: what parseUTCStamp parses, time.Parse parses to the
// same time, down to its representation.
func FuzzParseUTCStamp(f *testing.F) {
	for _, v := range []string{"2025-07-28T19:32:38.4407491Z", "2024-02-29T00:00:00Z", "2000-01-01T00:00:00.000000001Z"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, ok := parseUTCStamp(v)
		if !ok {
			return
		}
		want, wantOK := stampByTimeParse(v)
		if !wantOK || !reflect.DeepEqual(got, want) {
			t.Fatalf("parseUTCStamp(%q) = %#v; time.Parse: %#v, %v", v, got, want, wantOK)
		}
	})
}

// FuzzIDCase: idCase agrees with events' id checks.
func FuzzIDCase(f *testing.F) {
	for _, v := range []string{"BBBBBBBBBBBBBBBBBBBBBBBBBB", "jaqxqf5qylslqiitnduawrndc5", "22222222222222222222222222", "jaqxqf5qylslqiitnduawrndC5", "1AAAAAAAAAAAAAAAAAAAAAAAAA", ""} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c := idCase(v)
		if c&upperID != 0 != events.ValidUpperID(v) || c&lowerID != 0 != events.ValidLowerID(v) || (c != 0) != events.ValidID(v) {
			t.Fatalf("idCase(%q) = %b; ValidUpperID %v, ValidLowerID %v, ValidID %v", v, c, events.ValidUpperID(v), events.ValidLowerID(v), events.ValidID(v))
		}
	})
}
