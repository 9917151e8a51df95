package client

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/logbookhq/logbook/events"
)

func TestSplitPage(t *testing.T) {
	tests := []struct {
		name, in string
		want     events.RawPage
		err      string
	}{
		{"empty page", `{"cursor":"c","has_more":false,"items":[]}`, events.RawPage{Cursor: "c", Items: []json.RawMessage{}}, ""},
		{"items first, spaces", " { \"items\" : [ {\"a\":\"}\\\"\"} , {} ] , \"has_more\" : true , \"cursor\" : \"c\\u0041\" } ",
			events.RawPage{Cursor: "cA", HasMore: true, Items: []json.RawMessage{json.RawMessage(`{"a":"}\""}`), json.RawMessage(`{}`)}}, ""},
		{"unknown key skipped", `{"x":{"y":[1,2,{"z":null}]},"n":-1.5e3,"cursor":"c","has_more":false,"items":null}`, events.RawPage{Cursor: "c", Items: []json.RawMessage{}}, ""},
		{"item not object", `{"cursor":"c","has_more":false,"items":["x"]}`, events.RawPage{}, "items[0]: not an object"},
		{"unbalanced", `{"cursor":"c","has_more":false,"items":[{"a":[}]}`, events.RawPage{}, "mismatched"},
		{"trailing", `{"cursor":"c","has_more":false,"items":[]}x`, events.RawPage{}, "data after"},
		{"no cursor", `{"has_more":false,"items":[]}`, events.RawPage{}, "no cursor"},
		{"truncated", `{"cursor":"c","has_more":false,"items":[{"a":"b`, events.RawPage{}, "unterminated"},
		{"control char", "{\"cursor\":\"a\nb\",\"has_more\":false,\"items\":[]}", events.RawPage{}, "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitPage([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("SplitPage error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SplitPage mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEachField: each top-level member in order, keys raw, values as
// sent; fn's false stops the walk; malformed objects are errors naming
// what is wrong.
func TestEachField(t *testing.T) {
	type kv struct{ K, V string }
	tests := []struct {
		name, in string
		stopAt   string // key after which fn returns false
		want     []kv
		err      string
	}{
		{"members", ` {"uuid" : "U\u0031", "n":-1.5e3,"o":{"a":["]}",{}]},"t":true} `, "",
			[]kv{{"uuid", `"U\u0031"`}, {"n", "-1.5e3"}, {"o", `{"a":["]}",{}]}`}, {"t", "true"}}, ""},
		{"empty", `{}`, "", nil, ""},
		{"stops", `{"a":1,"b":2,"c":[}`, "b", []kv{{"a", "1"}, {"b", "2"}}, ""},
		{"not an object", `[1]`, "", nil, "not a JSON object"},
		{"empty input", ``, "", nil, "not a JSON object"},
		{"mismatched", `{"a":1,"b":[1}}`, "", []kv{{"a", "1"}}, "b: offset 13: mismatched }"},
		{"control character", "{\"a\":\"x\ty\"}", "", nil, "control character"},
		{"no colon", `{"a" 1}`, "", nil, "want a colon"},
		{"no comma", `{"a":1 "b":2}`, "", []kv{{"a", "1"}}, "want , or }"},
		{"key not a string", `{a:1}`, "", nil, "want a string"},
		{"truncated", `{"a":1`, "", []kv{{"a", "1"}}, "unexpected end"},
		{"unterminated", `{"a":"b`, "", nil, "unterminated string"},
		{"trailing", `{"a":1}x`, "", []kv{{"a", "1"}}, "data after the object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []kv
			err := EachField([]byte(tt.in), func(k, v []byte) bool {
				got = append(got, kv{string(k), string(v)})
				return string(k) != tt.stopAt
			})
			if tt.err == "" && err != nil {
				t.Fatalf("EachField: %v", err)
			}
			if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("EachField error = %v, want %q", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fields mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzEachField: EachField never panics, and reads every object that
// encoding/json accepts, handing out each member's value as valid JSON.
// (Like SplitPage it checks structure, not scalars, so it may accept more.)
func FuzzEachField(f *testing.F) {
	for _, s := range []string{`{}`, `{"uuid":"U","timestamp":"2024-12-02T11:54:19Z","a":[1,{"b":"]}"}]}`, `{"a":1}x`, `{"a":[}`, "{\"a\":\"\x01\"}", ` { "a" : null , "b" : -1e3 } `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var vals [][]byte
		err := EachField(data, func(_, v []byte) bool {
			vals = append(vals, v)
			return true
		})
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil || obj == nil { // null decodes into a map too
			return
		}
		if err != nil {
			t.Fatalf("EachField(%q) = %v; encoding/json reads it as an object", data, err)
		}
		if len(vals) < len(obj) {
			t.Errorf("EachField(%q) gave %d members, encoding/json %d", data, len(vals), len(obj))
		}
		for _, v := range vals {
			if !json.Valid(v) {
				t.Errorf("EachField(%q) gave the invalid value %q", data, v)
			}
		}
	})
}

// FuzzSplitPage checks that SplitPage never panics and agrees with
// encoding/json on valid pages whose keys are plain lower case.
func FuzzSplitPage(f *testing.F) {
	f.Add([]byte(`{"cursor":"c","has_more":true,"items":[{"uuid":"A","timestamp":"2024-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"items":[{"a":[1,{"b":"]"}]}],"cursor":"","has_more":false}`))
	f.Add([]byte(`{"cursor":"c","has_more":false,"items":[{"a":"\\"}]}`))
	fuzzSplit(f, "SplitPage", SplitPage, func(p *events.RawPage) *[]json.RawMessage { return &p.Items })
}

// FuzzSplitPageV3: what SplitPageV3 accepts, encoding/json reads the
// same (events and token), as FuzzSplitPage holds SplitPage to it.
func FuzzSplitPageV3(f *testing.F) {
	f.Add([]byte(`{"audit_events":[{"uuid":"A","insert_time":"2024-01-01T00:00:00Z"}],"next_page_token":"t"}`))
	f.Add([]byte(`{"next_page_token":null,"audit_events":[{"a":[1,{"b":"]"}]}]}`))
	f.Add([]byte(`{"audit_events":null}`))
	fuzzSplit(f, "SplitPageV3", SplitPageV3, func(p *events.PageV3[json.RawMessage]) *[]json.RawMessage { return &p.AuditEvents })
}

// fuzzSplit fuzzes split, called name: on a valid page whose keys are
// plain lower case that it accepts, it gives what encoding/json reads,
// with an empty list (not nil) where the page has none (the list items
// gives).
func fuzzSplit[P any](f *testing.F, name string, split func([]byte) (P, error), items func(*P) *[]json.RawMessage) {
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := split(data)
		if err != nil || !json.Valid(data) || bytes.ContainsAny(data, "ABCDEFGHIJKLMNOPQRSTUVWXYZ\\") {
			return
		}
		var want P
		if json.Unmarshal(data, &want) != nil {
			return
		}
		if l := items(&want); *l == nil {
			*l = []json.RawMessage{}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s(%q) disagrees with encoding/json (-want +got):\n%s", name, data, diff)
		}
	})
}

func BenchmarkSplitPage(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"cursor":"abcdefghijklmnopqrstuvwxyz0123456789","has_more":true,"items":[`)
	for i := range 1000 {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"uuid":"ZOZ6VXCTKF34T57ZFNIR3FUXSK","timestamp":"2024-12-02T11:54:19.710457472Z","actor_uuid":"IR7VJHJ36JHINBFAD7V2T5MP3E","actor_details":{"uuid":"IR7VJHJ36JHINBFAD7V2T5MP3E","name":"Test User","email":"userA@example.com"},"action":"create","object_type":"device","session":{"uuid":"ODOHXUYQCJBUJKRGZNNPBJURPE","login_time":"2024-12-02T11:54:19.693369325Z","device_uuid":"rqtd557fn2husnstp5nc66w2xa","ip":"8.8.8.8"},"location":{"country":"Israel","region":"Tel Aviv","city":"Tel Aviv","latitude":32.0803,"longitude":34.7805}}`)
	}
	buf.WriteString(`]}`)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := SplitPage(data); err != nil {
			b.Fatal(err)
		}
	}
}
