package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/logbookhq/logbook/events"
)

// MaxLine is the longest NDJSON line a Decoder reads.
const MaxLine = 1 << 20

// Decoder cuts a stream, a JSON array or NDJSON (one object per line; blank
// lines are skipped, told apart by the first byte), into its events for
// Load, which decodes them in chunks on every core (decodeItems). NDJSON
// lines may also be the simulator's envelopes,
// {"kind":"auditevents","event":{…}}; their kind must match the Decoder's,
// or, for a Decoder of no kind, selects it.
type Decoder struct {
	kind events.Feature
	r    *bufio.Reader
	mode byte // 0 before the first byte, '[' or '{'
	dec  *json.Decoder
	line int
}

// NewDecoder returns a Decoder for events of kind read from r. An empty
// kind accepts only envelopes, whose kind is then taken from each line.
func NewDecoder(r io.Reader, kind events.Feature) *Decoder {
	return &Decoder{kind: kind, r: bufio.NewReaderSize(r, 64<<10)}
}

func (d *Decoder) fail(line int, field, format string, args ...any) error {
	return &FieldError{Line: line, Field: field, Reason: fmt.Sprintf(format, args...)}
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
