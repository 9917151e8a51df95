package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/logbookhq/logbook/events"
)

// MaxLine is the longest NDJSON line a Decoder reads.
const MaxLine = 1 << 20

// Decoder reads events of one kind from a JSON array or from NDJSON (one
// object per line; blank lines are skipped), telling them apart by the
// first byte. NDJSON lines may also be the simulator's envelopes,
// {"kind":"auditevents","event":{…}}; their kind must match the Decoder's,
// or, for a Decoder of no kind, selects it.
//
// Each event is validated (spec §6–§7; see docs/ingest.md) and encoded
// with events.Encode, so that what is stored is canonical whatever the
// field order or spacing of the input.
type Decoder struct {
	kind  events.Feature
	r     *bufio.Reader
	mode  byte // 0 before the first byte, '[' or '{'
	dec   *json.Decoder
	line  int
	done  bool
	fatal error
}

// NewDecoder returns a Decoder for events of kind read from r. An empty
// kind accepts only envelopes, whose kind is then taken from each line.
func NewDecoder(r io.Reader, kind events.Feature) *Decoder {
	return &Decoder{kind: kind, r: bufio.NewReaderSize(r, 64<<10)}
}

// Event is one decoded event.
type Event struct {
	// Line is the 1-based element or line number.
	Line int
	Wire events.Wire
}

// Invalid is the error Next returns for an event that failed validation.
// The Decoder stays usable: the next call reads the next event.
type Invalid struct {
	Errors []FieldError
}

func (e *Invalid) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		parts[i] = fe.Error()
	}
	return strings.Join(parts, "; ")
}

// Next returns the next event, io.EOF at the end, an *Invalid for an
// event that failed validation (decoding may go on), or a *FieldError for
// input that cannot be read further (bad JSON structure).
func (d *Decoder) Next() (Event, error) {
	if d.fatal != nil {
		return Event{}, d.fatal
	}
	if d.done {
		return Event{}, io.EOF
	}
	if d.mode == 0 {
		c, err := d.skipSpace()
		if err == io.EOF {
			d.done = true
			return Event{}, io.EOF
		}
		if err != nil {
			return Event{}, d.fail(0, "body", "read: %v", err)
		}
		switch c {
		case '[':
			d.mode = '['
			d.dec = json.NewDecoder(d.r)
			d.dec.DisallowUnknownFields()
			if _, err := d.dec.Token(); err != nil {
				return Event{}, d.fail(0, "body", "not valid JSON: %v", err)
			}
		case '{':
			d.mode = '{'
		default:
			return Event{}, d.fail(0, "body", "must be a JSON array of events or NDJSON (one event object per line), not %q…", c)
		}
	}
	if d.mode == '[' {
		return d.nextElement()
	}
	return d.nextLine()
}

func (d *Decoder) fail(line int, field, format string, args ...any) error {
	d.fatal = &FieldError{Line: line, Field: field, Reason: fmt.Sprintf(format, args...)}
	return d.fatal
}

func (d *Decoder) skipSpace() (byte, error) {
	for {
		c, err := d.r.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case 0xEF: // a UTF-8 byte-order mark
			if b, _ := d.r.Peek(2); len(b) == 2 && b[0] == 0xBB && b[1] == 0xBF {
				_, _ = d.r.Discard(2)
				continue
			}
		}
		_ = d.r.UnreadByte()
		return c, nil
	}
}

func (d *Decoder) nextElement() (Event, error) {
	if !d.dec.More() {
		if _, err := d.dec.Token(); err != nil {
			return Event{}, d.fail(d.line+1, "body", "not valid JSON after element %d: %v", d.line, err)
		}
		if _, err := d.dec.Token(); err != io.EOF {
			return Event{}, d.fail(d.line, "body", "has data after the closing ]")
		}
		d.done = true
		return Event{}, io.EOF
	}
	d.line++
	if d.kind == "" {
		return Event{}, d.fail(d.line, "kind", "a JSON array needs the kind of its events (--kind)")
	}
	return d.decodeWith(d.line, d.kind, d.dec.Decode)
}

func (d *Decoder) nextLine() (Event, error) {
	for {
		line, err := d.readLine()
		if err == io.EOF {
			d.done = true
			return Event{}, io.EOF
		}
		if err != nil {
			return Event{}, err
		}
		d.line++
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		kind := d.kind
		if isEnvelope(line) {
			var env struct {
				Kind  string          `json:"kind"`
				Event json.RawMessage `json:"event"`
			}
			if err := json.Unmarshal(line, &env); err != nil {
				return Event{}, &Invalid{Errors: []FieldError{jsonError(d.line, err)}}
			}
			f, err := events.ParseFeature(env.Kind)
			switch {
			case err != nil:
				return Event{}, &Invalid{Errors: []FieldError{{Line: d.line, Field: "kind", Reason: err.Error()}}}
			case kind != "" && f != kind:
				return Event{}, &Invalid{Errors: []FieldError{{Line: d.line, Field: "kind", Reason: fmt.Sprintf("%s event sent as %s", f, kind)}}}
			}
			kind, line = f, env.Event
		} else if kind == "" {
			return Event{}, &Invalid{Errors: []FieldError{{Line: d.line, Field: "kind", Reason: `is required: give --kind, or send {"kind":…,"event":…} lines`}}}
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		ev, err := d.decodeWith(d.line, kind, dec.Decode)
		if err == nil && dec.More() {
			return Event{}, &Invalid{Errors: []FieldError{{Line: d.line, Field: "body", Reason: "more than one JSON value on the line"}}}
		}
		return ev, err
	}
}

// readLine returns the next line without its newline.
func (d *Decoder) readLine() ([]byte, error) {
	var long []byte
	for {
		frag, err := d.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long, frag...)
			if len(long) > MaxLine {
				return nil, d.fail(d.line+1, "body", "line is longer than %d bytes", MaxLine)
			}
			continue
		}
		if err == io.EOF && len(frag) == 0 && long == nil {
			return nil, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, d.fail(d.line+1, "body", "read: %v", err)
		}
		if long != nil {
			return append(long, frag...), nil
		}
		return frag, nil
	}
}

// isEnvelope reports whether an NDJSON line is a {"kind":…,"event":…}
// envelope rather than an event (events begin with "uuid", envelopes as
// the simulator writes them with "kind").
func isEnvelope(line []byte) bool {
	rest := bytes.TrimLeft(line[1:], " \t")
	return bytes.HasPrefix(rest, []byte(`"kind"`)) || bytes.HasPrefix(rest, []byte(`"event"`))
}

func (d *Decoder) decodeWith(line int, kind events.Feature, decode func(any) error) (Event, error) {
	c := checker{line: line}
	var ev any
	var err error
	switch kind {
	case events.SignInAttempts:
		var in signInIn
		if err = decode(&in); err == nil {
			ev = in.check(&c)
		}
	case events.ItemUsages:
		var in itemUsageIn
		if err = decode(&in); err == nil {
			ev = in.check(&c)
		}
	case events.AuditEvents:
		var in auditIn
		if err = decode(&in); err == nil {
			ev = in.check(&c)
		}
	default:
		return Event{}, d.fail(line, "kind", "unknown kind %q", kind)
	}
	if err != nil {
		var se *json.SyntaxError
		if d.mode == '[' && (errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) {
			// The array cannot be read past a syntax error.
			d.fatal = &Invalid{Errors: []FieldError{jsonError(line, err)}}
			return Event{}, d.fatal
		}
		return Event{}, &Invalid{Errors: []FieldError{jsonError(line, err)}}
	}
	if len(c.errs) > 0 {
		return Event{}, &Invalid{Errors: c.errs}
	}
	w, err := events.Encode(ev)
	if err != nil {
		return Event{}, &Invalid{Errors: []FieldError{{Line: line, Field: "body", Reason: err.Error()}}}
	}
	if w.UUID == "" {
		assignUUID(&w)
	}
	return Event{Line: line, Wire: w}, nil
}

// jsonError turns an encoding/json error into a FieldError naming the field.
func jsonError(line int, err error) FieldError {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return FieldError{Line: line, Field: field, Reason: fmt.Sprintf("must be %s, not %s", jsonKind(te.Type.Kind().String()), te.Value)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return FieldError{Line: line, Field: name, Reason: "unknown field"}
	case errors.As(err, &se):
		return FieldError{Line: line, Field: "body", Reason: "not valid JSON: " + se.Error()}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return FieldError{Line: line, Field: "body", Reason: "JSON ends too early"}
	}
	return FieldError{Line: line, Field: "body", Reason: err.Error()}
}

func jsonKind(kind string) string {
	switch kind {
	case "slice":
		return "an array"
	case "string":
		return "a string"
	case "struct", "map", "ptr":
		return "an object"
	case "bool":
		return "a boolean"
	}
	return "a number"
}

// nextItems returns up to n undecoded events. NDJSON lines are returned
// raw; an array's elements are read with the streaming decoder. The error
// is io.EOF at the end, or a *FieldError for unreadable input.
func (d *Decoder) nextItems(n int) ([]item, error) {
	if d.mode == 0 {
		c, err := d.skipSpace()
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil {
			return nil, d.fail(0, "body", "read: %v", err)
		}
		if c != '[' && c != '{' {
			return nil, d.fail(0, "body", "must be a JSON array of events or NDJSON (one event object per line), not %q…", c)
		}
		if c == '[' {
			if d.kind == "" {
				return nil, d.fail(1, "kind", "a JSON array needs the kind of its events (--kind)")
			}
			d.mode = '['
			d.dec = json.NewDecoder(d.r)
			if _, err := d.dec.Token(); err != nil {
				return nil, d.fail(0, "body", "not valid JSON: %v", err)
			}
		} else {
			d.mode = '{'
		}
	}
	var items []item
	for len(items) < n {
		if d.mode == '[' {
			if !d.dec.More() {
				if _, err := d.dec.Token(); err != nil {
					return items, d.fail(d.line+1, "body", "not valid JSON after element %d: %v", d.line, err)
				}
				return items, io.EOF
			}
			var raw json.RawMessage
			if err := d.dec.Decode(&raw); err != nil {
				return items, d.fail(d.line+1, "body", "not valid JSON: %v", err)
			}
			d.line++
			items = append(items, item{d.line, raw})
			continue
		}
		line, err := d.readLine()
		if err == io.EOF {
			return items, io.EOF
		}
		if err != nil {
			return items, err
		}
		d.line++
		if line = bytes.TrimSpace(line); len(line) > 0 {
			items = append(items, item{d.line, append([]byte(nil), line...)})
		}
	}
	return items, nil
}
