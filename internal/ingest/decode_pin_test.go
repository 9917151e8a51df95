package ingest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
)

// compactEvent is valid(kind) rendered as one line with sorted keys.
func compactEvent(kind events.Feature) string {
	b, _ := json.Marshal(valid(kind))
	return string(b)
}

// with returns valid(kind) with the raw JSON value at a dotted path ("" deletes it).
func with(kind events.Feature, path, raw string) string {
	m := valid(kind)
	var v any
	if raw != "" {
		v = json.RawMessage(raw)
	}
	b, err := json.Marshal(set(m, path, v))
	if err != nil {
		panic(err)
	}
	return string(b)
}

// prepend puts raw members first in valid(kind)'s object.
func prepend(kind events.Feature, members string) string {
	return "{" + members + "," + compactEvent(kind)[1:]
}

// replace swaps the first occurrence of old in valid(kind)'s line.
func replace(kind events.Feature, old, new string) string {
	s := compactEvent(kind)
	if !strings.Contains(s, old) {
		panic("no " + old + " in " + s)
	}
	return strings.Replace(s, old, new, 1)
}

// spaced puts JSON whitespace (but no newline) around every token of s.
func spaced(s string) string {
	var b strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case in && c == '\\':
			b.WriteByte(c)
			i++
			b.WriteByte(s[i])
			continue
		case c == '"':
			in = !in
		case !in && strings.IndexByte("{}[],:", c) >= 0:
			b.WriteString(" \t\r")
			b.WriteByte(c)
			b.WriteString("\r\t ")
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func indented(s string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "\t"); err != nil {
		panic(err)
	}
	return b.String()
}

func envelope(kind, event string) string {
	return `{"kind":"` + kind + `","event":` + event + `}`
}

const (
	sia = events.SignInAttempts
	iu  = events.ItemUsages
	ae  = events.AuditEvents
)

// pinCase is a body and what DecodeAll makes of it: want lists the
// errors' texts (none: accepted); same, for an accepted body, is another
// body that must decode to the same wires.
type pinCase struct {
	name string
	kind events.Feature
	body string
	same string
	want []string
}

// TestPinnedBehaviour pins what DecodeAll accepts and the exact errors it
// reports for JSON that is malformed or of the wrong shape: null members,
// duplicate names, wrong types and unknown members at every depth,
// escapes, bad UTF-8, syntax errors, trailing data and envelopes. The
// messages are go-json-experiment's and the checks'.
func TestPinnedBehaviour(t *testing.T) {
	for _, tc := range pinCases {
		t.Run(tc.name, func(t *testing.T) {
			wires, errs := DecodeAll(strings.NewReader(tc.body), tc.kind)
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("errors (-want +got):\n%s\nbody: %s", diff, tc.body)
			}
			if tc.want != nil {
				if len(wires) != 0 {
					t.Errorf("%d wires with errors", len(wires))
				}
				return
			}
			if len(wires) == 0 {
				t.Fatal("no wires")
			}
			if tc.same != "" {
				same, errs := DecodeAll(strings.NewReader(tc.same), tc.kind)
				if errs != nil {
					t.Fatalf("same: %v", errs)
				}
				if diff := cmp.Diff(same, wires); diff != "" {
					t.Errorf("wires (-same +got):\n%s", diff)
				}
			}
		})
	}
}

var pinCases = []pinCase{
	// null for a field behaves as the field's zero value (absent).
	{name: "null required string", kind: sia, body: with(sia, "country", "null"),
		want: []string{"line 1: country: is required"}},
	{name: "null optional string", kind: ae, body: with(ae, "account_uuid", "null"), same: with(ae, "account_uuid", "")},
	{name: "null uuid", kind: iu, body: with(iu, "uuid", "null"), same: with(iu, "uuid", "")},
	{name: "null timestamp", kind: ae, body: with(ae, "timestamp", "null"),
		want: []string{"line 1: timestamp: is required"}},
	{name: "null details", kind: sia, body: with(sia, "details", "null"), same: with(sia, "details", "")},
	{name: "null target_user", kind: sia, body: with(sia, "target_user", "null"),
		want: []string{"line 1: target_user: is required"}},
	{name: "null client", kind: iu, body: with(iu, "client", "null"),
		want: []string{"line 1: client: is required"}},
	{name: "null location", kind: sia, body: with(sia, "location", "null"), same: with(sia, "location", "")},
	{name: "null latitude", kind: sia, body: with(sia, "location.latitude", "null"), same: with(sia, "location.latitude", "")},
	{name: "null used_version", kind: iu, body: with(iu, "used_version", "null"),
		want: []string{"line 1: used_version: is required"}},
	{name: "null aux_id", kind: ae, body: with(ae, "aux_id", "null"), same: with(ae, "aux_id", "")},
	{name: "null object_uuid", kind: ae, body: with(ae, "object_uuid", "null"), same: with(ae, "object_uuid", "")},
	{name: "empty object_uuid", kind: ae, body: with(ae, "object_uuid", `""`)},
	{name: "null session", kind: ae, body: with(ae, "session", "null"), same: with(ae, "session", "")},
	{name: "null session uuid", kind: ae, body: with(ae, "session.uuid", "null"),
		want: []string{"line 1: session.uuid: is required"}},
	{name: "null nested user uuid", kind: sia, body: with(sia, "target_user.uuid", "null"),
		want: []string{"line 1: target_user.uuid: is required"}},
	{name: "null client app_name", kind: iu, body: with(iu, "client.app_name", "null"),
		want: []string{"line 1: client.app_name: is required"}},
	{name: "null details value", kind: sia, body: with(sia, "details.value", "null"), same: with(sia, "details.value", "")},
	{name: "null event", kind: ae, body: "[null]",
		want: []string{
			"line 1: timestamp: is required",
			"line 1: actor_uuid: is required",
			"line 1: object_type: is required",
			"line 1: action: is required",
		}},

	// Duplicate member names, at any depth, even when one is null.
	{name: "duplicate uuid", kind: sia, body: prepend(sia, `"uuid":"AAAAAAAAAAAAAAAAAAAAAAAAAA"`),
		want: []string{"line 1: body: not valid JSON: duplicate object member name \"uuid\""}},
	{name: "duplicate with null", kind: sia, body: prepend(sia, `"country":null`),
		want: []string{"line 1: body: not valid JSON: duplicate object member name \"country\""}},
	{name: "duplicate nested", kind: iu, body: with(iu, "client", `{"app_name":"a","ip_address":"192.0.2.1","app_name":"b"}`),
		want: []string{"line 1: body: not valid JSON: duplicate object member name \"app_name\" within \"/client\""}},
	{name: "duplicate unknown", kind: iu, body: prepend(iu, `"colour":1,"colour":2`),
		want: []string{"line 1: colour: unknown field"}},
	{name: "duplicate in session", kind: ae, body: with(ae, "session", `{"uuid":"FFFFFFFFFFFFFFFFFFFFFFFFFF","ip":"192.0.2.1","login_time":"2025-07-28T18:00:00Z","ip":"192.0.2.2"}`),
		want: []string{"line 1: body: not valid JSON: duplicate object member name \"ip\" within \"/session\""}},

	// Wrong JSON types, at every level.
	{name: "number for string", kind: sia, body: with(sia, "country", "5"),
		want: []string{"line 1: country: must be a string, not a number"}},
	{name: "bool for string", kind: sia, body: with(sia, "country", "true"),
		want: []string{"line 1: country: must be a string, not a boolean"}},
	{name: "object for string", kind: sia, body: with(sia, "country", "{}"),
		want: []string{"line 1: country: must be a string, not an object"}},
	{name: "array for string", kind: sia, body: with(sia, "country", "[]"),
		want: []string{"line 1: country: must be a string, not an array"}},
	{name: "nested number for string", kind: iu, body: with(iu, "client.app_name", "5"),
		want: []string{"line 1: client.app_name: must be a string, not a number"}},
	{name: "nested user number", kind: ae, body: with(ae, "actor_details.name", "-1.5e3"),
		want: []string{"line 1: actor_details.name: must be a string, not a number"}},
	{name: "array for object", kind: sia, body: with(sia, "target_user", `["x"]`),
		want: []string{"line 1: target_user: must be an object, not an array"}},
	{name: "string for location", kind: iu, body: with(iu, "location", `"here"`),
		want: []string{"line 1: location: must be an object, not a string"}},
	{name: "string for latitude", kind: sia, body: with(sia, "location.latitude", `"43.6"`),
		want: []string{"line 1: location.latitude: must be a number, not a string"}},
	{name: "bool for longitude", kind: sia, body: with(sia, "location.longitude", `false`),
		want: []string{"line 1: location.longitude: must be a number, not a boolean"}},
	{name: "huge latitude", kind: sia, body: with(sia, "location.latitude", `1e400`),
		want: []string{"line 1: location.latitude: must be a number, not the number 1e400"}},
	{name: "latitude forms", kind: sia, body: replace(sia, `"latitude":43.64,"longitude":-79.433`, `"latitude":4.364E+1,"longitude":-7943.3e-2`), same: compactEvent(sia)},
	{name: "zero coordinates", kind: sia, body: replace(sia, `"latitude":43.64,"longitude":-79.433`, `"latitude":-0.0,"longitude":0`), same: replace(sia, `"latitude":43.64,"longitude":-79.433`, `"latitude":0,"longitude":-0`)},
	{name: "tiny latitude", kind: sia, body: with(sia, "location.latitude", `1e-400`)},
	{name: "string for used_version", kind: iu, body: with(iu, "used_version", `"3"`),
		want: []string{"line 1: used_version: must be an integer, not a string"}},
	{name: "exponent used_version", kind: iu, body: with(iu, "used_version", `3e0`),
		want: []string{"line 1: used_version: must be an integer, not the number 3e0"}},
	{name: "fraction used_version", kind: iu, body: with(iu, "used_version", `3.0`),
		want: []string{"line 1: used_version: must be an integer, not the number 3.0"}},
	{name: "negative zero used_version", kind: iu, body: with(iu, "used_version", `-0`), same: with(iu, "used_version", `0`)},
	{name: "huge used_version", kind: iu, body: with(iu, "used_version", `99999999999999999999`),
		want: []string{"line 1: used_version: must be an integer, not the number 99999999999999999999"}},
	{name: "zero used_version", kind: iu, body: with(iu, "used_version", `0`)},
	{name: "long used_version", kind: iu, body: with(iu, "used_version", `123456789012345678`)},
	{name: "int64 max aux_id", kind: ae, body: with(ae, "aux_id", `9223372036854775807`)},
	{name: "int64 overflow aux_id", kind: ae, body: with(ae, "aux_id", `9223372036854775808`),
		want: []string{"line 1: aux_id: must be an integer, not the number 9223372036854775808"}},
	{name: "int64 min aux_id", kind: ae, body: with(ae, "aux_id", `-9223372036854775808`),
		want: []string{"line 1: aux_id: -9223372036854775808 is negative"}},
	{name: "object for aux_id", kind: ae, body: with(ae, "aux_id", `{}`),
		want: []string{"line 1: aux_id: must be an integer, not an object"}},
	{name: "number for object_uuid", kind: ae, body: with(ae, "object_uuid", `5`),
		want: []string{"line 1: object_uuid: must be a string, not a number"}},
	{name: "number for session login_time", kind: ae, body: with(ae, "session.login_time", `1700000000`),
		want: []string{"line 1: session.login_time: must be a string, not a number"}},
	{name: "string for session", kind: ae, body: with(ae, "session", `"s"`),
		want: []string{"line 1: session: must be an object, not a string"}},
	{name: "number for event", kind: ae, body: "[5]",
		want: []string{"line 1: body: must be an object, not a number"}},
	{name: "string for event", kind: ae, body: `["x"]`,
		want: []string{"line 1: body: must be an object, not a string"}},
	{name: "array for event", kind: ae, body: `[[]]`,
		want: []string{"line 1: body: must be an object, not an array"}},
	{name: "type error then unknown field", kind: sia, body: prepend(sia, `"country":5,"colour":"blue"`),
		want: []string{"line 1: country: must be a string, not a number"}},
	{name: "type error before unknown field", kind: sia, body: replace(sia, `"country":"CA"`, `"country":5,"zz":1`),
		want: []string{"line 1: country: must be a string, not a number"}},
	{name: "unknown field before type error", kind: sia, body: replace(sia, `"country":"CA"`, `"zz":1,"country":5`),
		want: []string{"line 1: zz: unknown field"}},

	// Unknown fields, named by dotted path.
	{name: "unknown in session", kind: ae, body: with(ae, "session.foo", `1`),
		want: []string{"line 1: session.foo: unknown field"}},
	{name: "unknown in location", kind: iu, body: with(iu, "location.foo", `null`),
		want: []string{"line 1: location.foo: unknown field"}},
	{name: "unknown in user", kind: iu, body: with(iu, "user.foo", `"x"`),
		want: []string{"line 1: user.foo: unknown field"}},
	{name: "unknown in details", kind: sia, body: with(sia, "details.foo", `"x"`),
		want: []string{"line 1: details.foo: unknown field"}},
	{name: "unknown in aux_details", kind: ae, body: with(ae, "aux_details.x", `{}`),
		want: []string{"line 1: aux_details.x: unknown field"}},
	{name: "name of another case", kind: sia, body: prepend(sia, `"UUID":"X"`),
		want: []string{"line 1: UUID: unknown field"}},
	{name: "name of another kind", kind: sia, body: prepend(sia, `"used_version":3`),
		want: []string{"line 1: used_version: unknown field"}},
	{name: "unknown then syntax error", kind: sia, body: prepend(sia, `"colour":1,`),
		want: []string{"line 1: colour: unknown field"}},

	// Strings: escapes, UTF-8, control characters.
	{name: "escaped name", kind: sia, body: replace(sia, `"country":`, `"c\u006funtry":`), same: compactEvent(sia)},
	{name: "escaped value", kind: sia, body: replace(sia, `"Ada"`, `"A\u0064\u0061"`), same: compactEvent(sia)},
	{name: "escapes", kind: sia, body: replace(sia, `"Ada"`, `"\"A\\d\/a\b\f\n\r\t\u00e9\u20AC\ud83d\uDE00\u003c"`),
		same: replace(sia, `"Ada"`, `"\u0022A\u005cd/a\u0008\u000c\u000a\u000d\u0009é€😀<"`)},
	{name: "escape at the ends", kind: sia, body: replace(sia, `"Ada"`, `"\\"`)},
	{name: "escaped uuid", kind: sia, body: replace(sia, `"uuid":"56YE2`, `"uuid":"\u00356YE2`), same: compactEvent(sia)},
	{name: "escaped enum", kind: sia, body: replace(sia, `"firewall_failed"`, `"firewall\u005ffailed"`), same: compactEvent(sia)},
	{name: "lone surrogate", kind: sia, body: replace(sia, `"Ada"`, `"\ud800"`),
		want: []string{"line 1: body: not valid JSON: invalid surrogate pair `\\ud800\",\"uui` in string within \"/target_user/name\" after offset 411"}},
	{name: "reversed surrogates", kind: sia, body: replace(sia, `"Ada"`, `"\udc00\ud800"`),
		want: []string{"line 1: body: not valid JSON: invalid surrogate pair `\\udc00\\ud800` in string within \"/target_user/name\" after offset 411"}},
	{name: "bad escape", kind: sia, body: replace(sia, `"Ada"`, `"\x41"`),
		want: []string{"line 1: body: not valid JSON: invalid escape sequence `\\x` in string within \"/target_user/name\" after offset 411"}},
	{name: "short unicode escape", kind: sia, body: replace(sia, `"Ada"`, `"\u41"`),
		want: []string{"line 1: body: not valid JSON: invalid escape sequence `\\u41\",` in string within \"/target_user/name\" after offset 411"}},
	{name: "invalid UTF-8", kind: sia, body: replace(sia, `"Ada"`, "\"A\xffa\""),
		want: []string{"line 1: body: not valid JSON: invalid UTF-8 within \"/target_user/name\" after offset 412"}},
	{name: "raw UTF-8", kind: sia, body: replace(sia, `"Ada"`, `"Åda Lovelace 😀"`)},
	{name: "control character", kind: sia, body: replace(sia, `"Ada"`, "\"A\x01a\""),
		want: []string{"line 1: body: not valid JSON: invalid character '\\x01' in string (expecting non-control character) within \"/target_user/name\" after offset 412"}},
	{name: "tab in string", kind: sia, body: replace(sia, `"Ada"`, "\"A\ta\""),
		want: []string{"line 1: body: not valid JSON: invalid character '\\t' in string (expecting non-control character) within \"/target_user/name\" after offset 412"}},
	{name: "DEL in string", kind: sia, body: replace(sia, `"Ada"`, "\"A\x7fa\"")},
	{name: "escaped NUL", kind: sia, body: replace(sia, `"Ada"`, `"A\u0000a"`)},

	// Syntax errors and trailing data.
	{name: "trailing comma", kind: sia, body: compactEvent(sia)[:len(compactEvent(sia))-1] + ",}",
		want: []string{"line 1: body: not valid JSON: invalid character ',' at start of value after offset 556"}},
	{name: "missing colon", kind: sia, body: replace(sia, `"country":`, `"country" `),
		want: []string{"line 1: body: not valid JSON: invalid character '\"' after object name (expecting ':') within \"/country\" after offset 198"}},
	{name: "missing comma", kind: sia, body: replace(sia, `,"country":`, ` "country":`),
		want: []string{"line 1: body: not valid JSON: invalid character '\"' after object value (expecting ',' or '}') after offset 188"}},
	{name: "unterminated", kind: sia, body: compactEvent(sia)[:40],
		want: []string{"line 1: body: not valid JSON: unexpected EOF within \"/client\" after offset 40"}},
	{name: "unclosed object", kind: sia, body: compactEvent(sia)[:len(compactEvent(sia))-1],
		want: []string{"line 1: body: not valid JSON: unexpected EOF after offset 556"}},
	{name: "trailing data", kind: sia, body: compactEvent(sia) + " x",
		want: []string{"line 1: body: not valid JSON: invalid character 'x' after top-level value after offset 558"}},
	{name: "trailing object", kind: sia, body: compactEvent(sia) + compactEvent(sia),
		want: []string{"line 1: body: not valid JSON: invalid character '{' after top-level value after offset 557"}},
	{name: "trailing object in array", kind: sia, body: "[" + compactEvent(sia) + compactEvent(sia) + "]",
		want: []string{"line 1: body: not valid JSON: want , or ] after this element"}},
	{name: "single quotes", kind: sia, body: replace(sia, `"CA"`, `'CA'`),
		want: []string{"line 1: body: not valid JSON: invalid character '\\'' at start of value within \"/country\" after offset 198"}},
	{name: "leading zero", kind: iu, body: replace(iu, `"used_version":3`, `"used_version":03`),
		want: []string{"line 1: body: not valid JSON: invalid character '3' after object value (expecting ',' or '}') after offset 263"}},
	{name: "plus sign", kind: iu, body: replace(iu, `"used_version":3`, `"used_version":+3`),
		want: []string{"line 1: body: not valid JSON: invalid character '+' at start of value within \"/used_version\" after offset 262"}},
	{name: "bare minus", kind: iu, body: replace(iu, `"used_version":3`, `"used_version":-`),
		want: []string{"line 1: body: not valid JSON: invalid character ',' in number (expecting digit) within \"/used_version\" after offset 263"}},
	{name: "dot without digits", kind: sia, body: replace(sia, `43.64`, `43.`),
		want: []string{"line 1: body: not valid JSON: invalid character ',' in number (expecting digit) within \"/location/latitude\" after offset 294"}},
	{name: "NaN", kind: sia, body: replace(sia, `43.64`, `NaN`),
		want: []string{"line 1: body: not valid JSON: invalid character 'N' at start of value within \"/location/latitude\" after offset 291"}},
	{name: "nul literal", kind: sia, body: replace(sia, `"details":{`, `"details":nul,"x":{`),
		want: []string{"line 1: body: not valid JSON: invalid character ',' in literal null (expecting 'l') within \"/details\" after offset 216"}},
	{name: "spaced event", kind: sia, body: spaced(compactEvent(sia)), same: compactEvent(sia)},
	{name: "spaced event in array", kind: sia, body: "[" + spaced(compactEvent(sia)) + "]", same: compactEvent(sia)},
	{name: "indented array", kind: ae, body: indented("[" + compactEvent(ae) + "," + compactEvent(ae) + "]"), same: compactEvent(ae) + "\n" + compactEvent(ae)},
	{name: "leading and trailing space on a line", kind: ae, body: " \t" + compactEvent(ae) + " \r\n", same: compactEvent(ae)},
	{name: "empty object", kind: sia, body: "{}",
		want: []string{
			"line 1: session_uuid: is required",
			"line 1: timestamp: is required",
			"line 1: country: is required",
			"line 1: category: is required",
			"line 1: target_user: is required",
			"line 1: client: is required",
		}},

	{name: "empty array element", kind: sia, body: "[,]",
		want: []string{`line 1: body: not valid JSON: want a value, not ","`}},
	{name: "empty element after event", kind: sia, body: "[" + compactEvent(sia) + ",]",
		want: []string{`line 2: body: not valid JSON: want a value, not "]"`}},
	{name: "empty element between events", kind: sia, body: "[" + compactEvent(sia) + ", ," + compactEvent(sia) + "]",
		want: []string{`line 2: body: not valid JSON: want a value, not ","`}},

	// Envelopes.
	{name: "envelope", kind: ae, body: envelope("auditevents", compactEvent(ae)), same: compactEvent(ae)},
	{name: "envelope, no route kind", kind: "", body: envelope("itemusages", compactEvent(iu)), same: envelope("itemusages", compactEvent(iu))},
	{name: "envelope event first", kind: ae, body: `{"event":` + compactEvent(ae) + `,"kind":"auditevents"}`, same: compactEvent(ae)},
	{name: "envelope spaced", kind: ae, body: `{ "kind" : "auditevents" , "event" : ` + compactEvent(ae) + ` }`, same: compactEvent(ae)},
	{name: "envelope kind with spaces", kind: ae, body: envelope(" auditevents ", compactEvent(ae)), same: compactEvent(ae)},
	{name: "envelope other kind", kind: ae, body: envelope("itemusages", compactEvent(ae)),
		want: []string{"line 1: kind: itemusages event sent as auditevents"}},
	{name: "envelope unknown kind", kind: ae, body: envelope("logins", compactEvent(ae)),
		want: []string{"line 1: kind: unknown feature \"logins\" (want signinattempts, itemusages or auditevents)"}},
	{name: "envelope kind a number", kind: ae, body: `{"kind":5,"event":` + compactEvent(ae) + `}`,
		want: []string{"line 1: kind: must be a string, not a number"}},
	{name: "envelope kind null", kind: ae, body: `{"kind":null,"event":` + compactEvent(ae) + `}`,
		want: []string{"line 1: kind: unknown feature \"\" (want signinattempts, itemusages or auditevents)"}},
	{name: "envelope without event", kind: ae, body: `{"kind":"auditevents"}`,
		want: []string{"line 1: body: not valid JSON: unexpected EOF"}},
	{name: "envelope event null", kind: ae, body: `{"kind":"auditevents","event":null}`,
		want: []string{
			"line 1: timestamp: is required",
			"line 1: actor_uuid: is required",
			"line 1: object_type: is required",
			"line 1: action: is required",
		}},
	{name: "envelope event a string", kind: ae, body: `{"kind":"auditevents","event":"x"}`,
		want: []string{"line 1: body: must be an object, not a string"}},
	{name: "envelope unknown member", kind: ae, body: `{"kind":"auditevents","event":` + compactEvent(ae) + `,"extra":1}`,
		want: []string{"line 1: extra: unknown field"}},
	{name: "envelope duplicate kind", kind: ae, body: `{"kind":"auditevents","kind":"auditevents","event":` + compactEvent(ae) + `}`,
		want: []string{"line 1: body: not valid JSON: duplicate object member name \"kind\""}},
	{name: "envelope duplicate event", kind: ae, body: `{"kind":"auditevents","event":{},"event":` + compactEvent(ae) + `}`,
		want: []string{"line 1: body: not valid JSON: duplicate object member name \"event\""}},
	{name: "envelope bad event", kind: ae, body: envelope("auditevents", with(ae, "session.ip", `"localhost"`)),
		want: []string{"line 1: session.ip: \"localhost\" is not an IP address"}},
	{name: "envelope event syntax error", kind: ae, body: envelope("auditevents", compactEvent(ae)[:len(compactEvent(ae))-1]+",}"),
		want: []string{"line 1: body: not valid JSON: invalid character '}' at start of string (expecting '\"') within \"/event\" after offset 549"}},
	{name: "envelope event unknown field", kind: ae, body: envelope("auditevents", with(ae, "colour", `1`)),
		want: []string{"line 1: colour: unknown field"}},
	{name: "envelope event duplicate", kind: ae, body: envelope("auditevents", prepend(ae, `"action":"join"`)),
		want: []string{"line 1: body: not valid JSON: duplicate object member name \"action\" within \"/event\""}},
	{name: "envelope trailing data", kind: ae, body: envelope("auditevents", compactEvent(ae)) + "x",
		want: []string{"line 1: body: not valid JSON: invalid character 'x' after top-level value after offset 550"}},
	{name: "envelope in array", kind: ae, body: "[" + envelope("auditevents", compactEvent(ae)) + "]"},
	{name: "unknown route kind", kind: "logins", body: compactEvent(ae),
		want: []string{`line 1: body: line 1: kind: unknown kind "logins"`}},
	{name: "unknown route kind, envelope", kind: "logins", body: envelope("auditevents", compactEvent(ae)),
		want: []string{"line 1: kind: auditevents event sent as logins"}},
	{name: "no kind anywhere", kind: "", body: compactEvent(ae),
		want: []string{"line 1: kind: is required: give --kind, or send {\"kind\":…,\"event\":…} lines"}},

	// Several check errors in one event keep their order.
	{name: "many check errors", kind: ae, body: `{"uuid":"x","timestamp":"1999-01-01T00:00:00Z","actor_uuid":"","action":"suspend","object_type":"gm","aux_id":-1,"session":{"uuid":"a","login_time":"now","ip":"::x"},"location":{"latitude":91,"longitude":-181},"actor_type":"robot","account_uuid":"b"}`,
		want: []string{
			"line 1: uuid: \"x\" is not a 26-character upper-case base32 id",
			"line 1: timestamp: \"1999-01-01T00:00:00Z\" is outside the years 2000–9999",
			"line 1: actor_uuid: is required",
			"line 1: action: \"suspend\" is not an action on object_type gm (want one of join, leave, role)",
			"line 1: aux_id: -1 is negative",
			"line 1: session.uuid: \"a\" is not a 26-character upper-case base32 id",
			"line 1: session.login_time: \"now\" is not an RFC 3339 timestamp",
			"line 1: session.ip: \"::x\" is not an IP address",
			"line 1: location.latitude: 91 is not between -90 and 90",
			"line 1: location.longitude: -181 is not between -180 and 180",
			"line 1: actor_type: \"robot\" is not one of user, external_user",
			"line 1: account_uuid: \"b\" is not a 26-character upper-case base32 id",
		}},
	{name: "many sign-in errors", kind: sia, body: `{"category":"success","type":"firewall_blocked","target_user":{"email":"x","user_type":"admin","user_account_uuid":"y"},"client":{"app_name":"","ip_address":"1.2.3"},"details":{"value":""}}`,
		want: []string{
			"line 1: session_uuid: is required",
			"line 1: timestamp: is required",
			"line 1: country: is required",
			"line 1: type: \"firewall_blocked\" is not a sign-in type",
			"line 1: target_user.uuid: is required",
			"line 1: target_user.email: \"x\" is not an e-mail address",
			"line 1: target_user.user_type: \"admin\" is not one of user, external_user",
			"line 1: target_user.user_account_uuid: \"y\" is not a 26-character upper-case base32 id",
			"line 1: client.app_name: is required",
			"line 1: client.ip_address: \"1.2.3\" is not an IP address",
		}},
	{name: "stamp with offset", kind: iu, body: with(iu, "timestamp", `"2025-07-28T21:00:00+02:00"`), same: with(iu, "timestamp", `"2025-07-28T19:00:00Z"`)},
	{name: "stamp lower-case t", kind: iu, body: with(iu, "timestamp", `"2025-07-28t19:00:00z"`),
		want: []string{"line 1: timestamp: \"2025-07-28t19:00:00z\" is not an RFC 3339 timestamp"}},
	{name: "stamp leap second", kind: iu, body: with(iu, "timestamp", `"2025-06-30T23:59:60Z"`),
		want: []string{"line 1: timestamp: \"2025-06-30T23:59:60Z\" is not an RFC 3339 timestamp"}},
	{name: "stamp Feb 30", kind: iu, body: with(iu, "timestamp", `"2025-02-30T00:00:00Z"`),
		want: []string{"line 1: timestamp: \"2025-02-30T00:00:00Z\" is not an RFC 3339 timestamp"}},
	{name: "stamp Feb 29 leap year", kind: iu, body: with(iu, "timestamp", `"2024-02-29T00:00:00Z"`)},
	{name: "stamp long fraction", kind: iu, body: with(iu, "timestamp", `"2025-07-28T19:00:00.1234567891Z"`)},
	{name: "stamp empty fraction", kind: iu, body: with(iu, "timestamp", `"2025-07-28T19:00:00.Z"`),
		want: []string{"line 1: timestamp: \"2025-07-28T19:00:00.Z\" is not an RFC 3339 timestamp"}},
	{name: "stamp hour 24", kind: iu, body: with(iu, "timestamp", `"2025-07-28T24:00:00Z"`),
		want: []string{"line 1: timestamp: \"2025-07-28T24:00:00Z\" is not an RFC 3339 timestamp"}},
	{name: "stamp year 10000", kind: iu, body: with(iu, "timestamp", `"10000-07-28T19:00:00Z"`),
		want: []string{"line 1: timestamp: \"10000-07-28T19:00:00Z\" is not an RFC 3339 timestamp"}},
}
