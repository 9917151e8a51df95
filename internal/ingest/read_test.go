package ingest

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/benchrate"
	"github.com/logbookhq/logbook/internal/simulate"
)

// simulatedByKind returns the v2 JSON of simulated events, by kind.
func simulatedByKind(tb testing.TB, days int) map[events.Feature][]string {
	tb.Helper()
	start := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	sim := simulate.New(simulate.Config{Seed: 11, Start: start, Users: 60})
	out := map[events.Feature][]string{}
	err := sim.Run(start.AddDate(0, 0, days), func(it simulate.Item) error {
		w, err := events.Encode(it.Event)
		if err != nil {
			return err
		}
		out[w.Feature] = append(out[w.Feature], string(w.V2))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	for _, k := range events.AllFeatures {
		if len(out[k]) < 20 {
			tb.Fatalf("%d simulated %s", len(out[k]), k)
		}
	}
	return out
}

// sameAsJSONv2 checks readItem against parseItemJSONv2 on one item: where
// readItem vouches for the item, both must give the same event (and wire)
// or the same errors. It reports whether readItem did.
func sameAsJSONv2(t *testing.T, data string, kind events.Feature) bool {
	t.Helper()
	it := item{line: 3, data: []byte(data)}
	ev, errs, ok := readItem(it, kind)
	if !ok {
		return false
	}
	wantEv, wantErrs := parseItemJSONv2(item{line: 3, data: []byte(data)}, kind)
	// reflect.DeepEqual tells time.Time values apart by their
	// representation, not just their instant.
	if !reflect.DeepEqual(wantErrs, errs) {
		t.Fatalf("errors (-jsonv2 +read):\n%s\ninput: %q", cmp.Diff(wantErrs, errs), data)
	}
	if v := reflect.ValueOf(ev); v.Kind() == reflect.Pointer {
		ev = v.Elem().Interface()
	}
	if !reflect.DeepEqual(wantEv, ev) {
		t.Fatalf("event (-jsonv2 +read):\n%s\ninput: %q", cmp.Diff(wantEv, ev), data)
	}
	if ev != nil {
		want, err1 := events.Encode(wantEv)
		got, err2 := events.Encode(ev)
		if err1 != nil || err2 != nil {
			t.Fatalf("encode: %v, %v", err1, err2)
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("wire (-jsonv2 +read):\n%s\ninput: %q", cmp.Diff(want, got), data)
		}
	}
	return true
}

// TestReadSimulated: readItem reads every simulated event, bare and in an
// envelope, as go-json-experiment does.
func TestReadSimulated(t *testing.T) {
	for kind, evs := range simulatedByKind(t, 1) {
		for _, ev := range evs {
			for _, data := range []string{ev, `{"kind":"` + string(kind) + `","event":` + ev + `}`} {
				if !sameAsJSONv2(t, data, kind) {
					t.Fatalf("readItem gave up on %s", data)
				}
			}
			env := `{"kind":"` + string(kind) + `","event":` + ev + `}`
			if !sameAsJSONv2(t, env, "") {
				t.Fatalf("readItem gave up on %s for a Decoder of no kind", env)
			}
		}
	}
}

// TestReadPinned runs the pinned cases' events through both decoders. The
// cases that readItem must read itself (the common, valid shapes) are
// named.
func TestReadPinned(t *testing.T) {
	mustRead := map[string]bool{
		"null optional string": true, "null uuid": true, "null details": true, "null location": true,
		"null latitude": true, "null used_version": true, "null object_uuid": true, "empty object_uuid": true,
		"null session": true, "null session uuid": true, "null client app_name": true, "escapes": true,
		"escaped value": true, "raw UTF-8": true, "spaced event": true, "spaced event in array": true,
		"envelope": true, "envelope spaced": true, "envelope, no route kind": true, "many check errors": true,
		"latitude forms": true, "zero coordinates": true, "tiny latitude": true, "long used_version": true,
		"DEL in string": true, "escaped NUL": true, "empty object": true,
	}
	for _, tc := range pinCases {
		t.Run(tc.name, func(t *testing.T) {
			items, fe := splitBody([]byte(tc.body))
			if fe != nil {
				return
			}
			read := false
			for _, it := range items {
				if sameAsJSONv2(t, string(it.data), tc.kind) {
					read = true
				}
			}
			if mustRead[tc.name] && !read {
				t.Errorf("readItem gave up on %s", tc.body)
			}
		})
	}
}

// TestReadMutated compares the decoders on simulated events changed one
// member at a time: values of other types, null, duplicates, unknown
// names, escapes, numbers of every form, whitespace and truncation.
func TestReadMutated(t *testing.T) {
	evs := simulatedByKind(t, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	values := []string{`null`, `0`, `-0`, `1`, `-1`, `1.5`, `1e3`, `-2E-2`, `1e400`, `123456789012345678`,
		`1234567890123456789`, `9223372036854775808`, `01`, `-`, `.5`, `true`, `false`, `nul`, `""`, `"x"`,
		`"\u00e9"`, `"\ud83d\ude00"`, `"\ud800"`, `"a\"b"`, `"\x"`, "\"\xff\"", "\"\x01\"", `{}`, `[]`, `{"a":1}`,
		`"AAAAAAAAAAAAAAAAAAAAAAAAAA"`, `"2025-03-03T10:00:00Z"`, `"192.0.2.1"`, `{"uuid":"AAAAAAAAAAAAAAAAAAAAAAAAAA"}`}
	n, read := 0, 0
	for kind, list := range evs {
		for i, ev := range list {
			if i >= 300 {
				break
			}
			for range 8 {
				data := mutate(rng, ev, values)
				if rng.IntN(4) == 0 {
					data = `{"kind":"` + string(kind) + `","event":` + data + `}`
				}
				n++
				if sameAsJSONv2(t, data, kind) {
					read++
				}
			}
		}
	}
	t.Logf("%d mutations, %d read by readItem", n, read)
	if read < n/4 {
		t.Errorf("readItem read only %d of %d mutations", read, n)
	}
}

// mutate changes ev (compact JSON) at one random spot.
func mutate(rng *rand.Rand, ev string, values []string) string {
	// The positions of values: after a colon outside strings.
	var at []int
	in := false
	for i := 0; i < len(ev); i++ {
		switch c := ev[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && c == ':':
			at = append(at, i+1)
		}
	}
	p := at[rng.IntN(len(at))]
	end, _ := valueEnd([]byte(ev), p)
	nameStart := strings.LastIndexByte(ev[:p-2], '"')
	member := ev[nameStart:end]
	switch rng.IntN(9) {
	case 0, 1, 2: // another value
		return ev[:p] + values[rng.IntN(len(values))] + ev[end:]
	case 3: // the member twice
		return ev[:end] + "," + member + ev[end:]
	case 4: // an unknown name
		return ev[:nameStart] + `"x` + ev[nameStart+1:]
	case 5: // whitespace
		return ev[:p] + " \t\r\n"[rng.IntN(4):] + ev[p:]
	case 6: // an escaped character in a string value
		if ev[p] == '"' && end-p > 3 {
			j := p + 1 + rng.IntN(end-p-2)
			return ev[:j] + fmt.Sprintf(`\u%04X`, ev[j]) + ev[j+1:]
		}
		return ev[:p] + `"\/\b\f\n\r\t\\"` + ev[end:]
	case 7: // the member removed
		if ev[nameStart-1] == ',' {
			return ev[:nameStart-1] + ev[end:]
		}
		return ev[:nameStart] + strings.TrimPrefix(ev[end:], ",")
	default: // cut short, or something after
		if rng.IntN(2) == 0 {
			return ev[:rng.IntN(len(ev))]
		}
		return ev + []string{" ", "x", "{}", ",", "}"}[rng.IntN(5)]
	}
}

// FuzzRead holds readItem to parseItemJSONv2's results on any input.
func FuzzRead(f *testing.F) {
	for kind, evs := range simulatedByKind(f, 1) {
		for _, ev := range evs[:3] {
			f.Add(ev, byte(kindIndex(kind)))
			f.Add(`{"kind":"`+string(kind)+`","event":`+ev+`}`, byte(kindIndex(kind)))
			f.Add(spaced(ev), byte(kindIndex(kind)))
		}
	}
	for _, tc := range pinCases {
		f.Add(tc.body, byte(kindIndex(tc.kind)))
	}
	f.Fuzz(func(t *testing.T, data string, k byte) {
		kind := append([]events.Feature{""}, events.AllFeatures...)[int(k)%4]
		if len(data) > 0 {
			sameAsJSONv2(t, data, kind)
		}
	})
}

func kindIndex(kind events.Feature) int {
	for i, k := range events.AllFeatures {
		if k == kind {
			return i + 1
		}
	}
	return 0
}

// BenchmarkParse measures decoding and checking alone (no events.Encode),
// by readItem (with its fallback, as ingestion runs) and by
// go-json-experiment, on one core.
func BenchmarkParse(b *testing.B) {
	evs := simulatedByKind(b, 3)
	for _, kind := range events.AllFeatures {
		var items []item
		var size int
		for i, ev := range evs[kind] {
			items = append(items, item{line: i + 1, data: []byte(ev)})
			size += len(ev) + 1
		}
		for _, impl := range []struct {
			name  string
			parse func(item, events.Feature) (any, []FieldError)
		}{{"read", parseItem}, {"jsonv2", parseItemJSONv2}} {
			b.Run(string(kind)+"/"+impl.name, func(b *testing.B) {
				b.SetBytes(int64(size))
				meter := benchrate.Start()
				for b.Loop() {
					for _, it := range items {
						if _, errs := impl.parse(it, kind); errs != nil {
							b.Fatal(errs)
						}
					}
				}
				meter.Report(b, len(items)*b.N)
			})
		}
	}
}
