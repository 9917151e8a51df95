package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/logbookhq/logbook/events"
)

// Decoding, validating and re-encoding an event costs tens of
// microseconds, several times what the store spends appending it, so a
// batch is split into its elements (a cheap byte scan) and they are
// decoded on every core, keeping their order.

// item is one element or line of a batch.
type item struct {
	line int
	data []byte
}

// splitBody cuts an in-memory batch into its events: the elements of a
// JSON array, or the non-blank lines of NDJSON.
func splitBody(b []byte) ([]item, *FieldError) {
	i := skipWS(b, 0)
	if i+3 <= len(b) && b[i] == 0xEF && b[i+1] == 0xBB && b[i+2] == 0xBF {
		i = skipWS(b, i+3)
	}
	if i == len(b) {
		return nil, nil
	}
	switch b[i] {
	case '[':
		return splitArray(b, i+1)
	case '{':
		var items []item
		line := 0
		for len(b) > 0 {
			line++
			l := b
			if j := bytes.IndexByte(b, '\n'); j >= 0 {
				l, b = b[:j], b[j+1:]
			} else {
				b = nil
			}
			if l = bytes.TrimSpace(l); len(l) > 0 {
				items = append(items, item{line, l})
			}
		}
		return items, nil
	}
	return nil, &FieldError{Field: "body", Reason: fmt.Sprintf("must be a JSON array of events or NDJSON (one event object per line), not %q…", b[i])}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

func splitArray(b []byte, i int) ([]item, *FieldError) {
	var items []item
	i = skipWS(b, i)
	if i < len(b) && b[i] == ']' {
		if skipWS(b, i+1) != len(b) {
			return nil, &FieldError{Line: 0, Field: "body", Reason: "has data after the closing ]"}
		}
		return nil, nil
	}
	for n := 1; ; n++ {
		i = skipWS(b, i)
		if i == len(b) {
			// [ or [{…}, and nothing more.
			return nil, &FieldError{Line: n, Field: "body", Reason: "not valid JSON: the array ends before its closing ]"}
		}
		end, ok := valueEnd(b, i)
		if !ok {
			return nil, &FieldError{Line: n, Field: "body", Reason: "not valid JSON: the array ends inside this element"}
		}
		if end == i {
			// [,] or [{…},]: there is no value to decode.
			return nil, &FieldError{Line: n, Field: "body", Reason: "not valid JSON: want a value, not " + strconv.Quote(string(b[i]))}
		}
		items = append(items, item{n, b[i:end]})
		i = skipWS(b, end)
		switch {
		case i < len(b) && b[i] == ',':
			i++
		case i < len(b) && b[i] == ']':
			if skipWS(b, i+1) != len(b) {
				return nil, &FieldError{Line: n, Field: "body", Reason: "has data after the closing ]"}
			}
			return items, nil
		default:
			return nil, &FieldError{Line: n, Field: "body", Reason: "not valid JSON: want , or ] after this element"}
		}
	}
}

// valueEnd returns where the JSON value starting at i ends, tracking
// nesting and strings but not checking the value's grammar (the decoder
// does).
func valueEnd(b []byte, i int) (int, bool) {
	depth := 0
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if i >= len(b) {
				return 0, false
			}
			if depth == 0 {
				return i + 1, true
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return i, i > 0 // a scalar ended by the array's ]
			}
			if depth == 0 {
				return i + 1, true
			}
		case ',', ' ', '\t', '\r', '\n':
			if depth == 0 {
				return i, true
			}
		}
	}
	return i, depth == 0 && i > 0
}

// decodeItem decodes, validates and encodes one event. kind "" requires
// an envelope. A non-empty account is the account the event is stored in,
// which it is made to name (rehome).
func decodeItem(it item, kind events.Feature, account string) (events.Wire, []FieldError) {
	ev, errs := parseItem(it, kind)
	if errs != nil {
		return events.Wire{}, errs
	}
	if account != "" {
		ev = rehome(ev, account)
	}
	w, err := events.Encode(ev)
	if err != nil {
		return events.Wire{}, []FieldError{{Line: it.line, Field: "body", Reason: err.Error()}}
	}
	if w.UUID == "" {
		assignUUID(&w)
	}
	return w, nil
}

// parseItem decodes and checks one event, returning an events.SignInAttempt,
// events.ItemUsage or events.AuditEvent (or a pointer to one) for
// events.Encode, or the event's field errors.
//
// The hand-written reader (read.go) takes the events it can vouch for:
// well-formed JSON of the event's shape, which go-json-experiment would
// decode to the same values. Anything else, such as a syntax error, an
// unknown or duplicate member, a value of the wrong type or a member order
// it does not expect in an envelope, goes to parseItemJSONv2, whose
// errors are the reference (they give byte offsets and JSON pointers).
func parseItem(it item, kind events.Feature) (any, []FieldError) {
	if ev, errs, ok := readItem(it, kind); ok {
		return ev, errs
	}
	return parseItemJSONv2(it, kind)
}

// parseItemJSONv2 is parseItem by go-json-experiment's reflection-based
// decoder, which is about twice as fast as encoding/json's here and names
// nested unknown fields.
func parseItemJSONv2(it item, kind events.Feature) (any, []FieldError) {
	data := it.data
	if data[0] == '{' && isEnvelope(data) {
		var env struct {
			Kind  string         `json:"kind"`
			Event jsontext.Value `json:"event"`
		}
		if err := jsonv2.Unmarshal(data, &env, jsonv2.RejectUnknownMembers(true)); err != nil {
			return nil, []FieldError{jsonV2Error(it.line, err)}
		}
		f, err := events.ParseFeature(env.Kind)
		switch {
		case err != nil:
			return nil, []FieldError{{Line: it.line, Field: "kind", Reason: err.Error()}}
		case kind != "" && f != kind:
			return nil, []FieldError{{Line: it.line, Field: "kind", Reason: fmt.Sprintf("%s event sent as %s", f, kind)}}
		}
		kind, data = f, env.Event
	} else if kind == "" {
		return nil, []FieldError{{Line: it.line, Field: "kind", Reason: `is required: give --kind, or send {"kind":…,"event":…} lines`}}
	}
	c := checker{line: it.line}
	ev, known, err := decodeJSONv2(data, kind, &c) // read_gen.go
	if !known {
		// An unknown route kind cannot reach here from the handler; the
		// wording is pinned (decode_pin_test.go) as it has always been.
		fe := FieldError{Line: it.line, Field: "kind", Reason: fmt.Sprintf("unknown kind %q", kind)}
		return nil, []FieldError{{Line: it.line, Field: "body", Reason: fe.Error()}}
	}
	if err != nil {
		return nil, []FieldError{jsonV2Error(it.line, err)}
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return ev, nil
}

// jsonV2Error turns a go-json-experiment error into a FieldError naming
// the field by its dotted path.
func jsonV2Error(line int, err error) FieldError {
	var se *jsonv2.SemanticError
	var syn *jsontext.SyntacticError
	switch {
	case errors.As(err, &se):
		field := strings.ReplaceAll(strings.TrimPrefix(string(se.JSONPointer), "/"), "/", ".")
		if field == "" {
			field = "body"
		}
		switch {
		case errors.Is(se.Err, jsonv2.ErrUnknownName):
			return FieldError{Line: line, Field: field, Reason: "unknown field"}
		case se.GoType != nil:
			want := jsonKind(se.GoType.Kind().String())
			switch se.GoType.Kind() {
			case reflect.Int, reflect.Int64:
				want = "an integer"
			case reflect.Pointer:
				want = jsonKind(se.GoType.Elem().Kind().String())
				if k := se.GoType.Elem().Kind(); k == reflect.Int || k == reflect.Int64 {
					want = "an integer"
				}
			}
			got := map[jsontext.Kind]string{'"': "a string", '0': "a number", '{': "an object", '[': "an array", 't': "a boolean", 'f': "a boolean", 'n': "null"}[se.JSONKind]
			if got == "" {
				got = "something else"
			} else if se.JSONKind == '0' && len(se.JSONValue) > 0 {
				got = "the number " + string(se.JSONValue)
			}
			return FieldError{Line: line, Field: field, Reason: fmt.Sprintf("must be %s, not %s", want, got)}
		}
		return FieldError{Line: line, Field: field, Reason: se.Error()}
	case errors.As(err, &syn):
		return FieldError{Line: line, Field: "body", Reason: "not valid JSON: " + strings.TrimPrefix(syn.Error(), "jsontext: ")}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return FieldError{Line: line, Field: "body", Reason: "JSON ends too early"}
	}
	return FieldError{Line: line, Field: "body", Reason: err.Error()}
}

// decodeItems decodes items on every core. It returns the wires in order,
// or the first MaxErrors field errors in line order and no wires.
func decodeItems(items []item, kind events.Feature, account string) ([]events.Wire, []FieldError) {
	wires := make([]events.Wire, len(items))
	errs := make([][]FieldError, len(items))
	workers := min(runtime.GOMAXPROCS(0), (len(items)+63)/64)
	if workers <= 1 {
		for i, it := range items {
			wires[i], errs[i] = decodeItem(it, kind, account)
		}
	} else {
		var wg sync.WaitGroup
		chunk := (len(items) + workers - 1) / workers
		for lo := 0; lo < len(items); lo += chunk {
			hi := min(lo+chunk, len(items))
			wg.Go(func() {
				for i := lo; i < hi; i++ {
					wires[i], errs[i] = decodeItem(items[i], kind, account)
				}
			})
		}
		wg.Wait()
	}
	var out []FieldError
	for _, e := range errs {
		out = append(out, e...)
		if len(out) >= MaxErrors {
			return nil, out[:MaxErrors]
		}
	}
	if len(out) > 0 {
		return nil, out
	}
	return wires, nil
}
