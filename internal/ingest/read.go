package ingest

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/logbookhq/logbook/events"
)

// A reader of the event shapes, for the common case of
// a well-formed event: it costs a fraction of go-json-experiment's
// reflection-based decoding and makes one string of the event, of which
// the fields are substrings (but for those with escapes, and the uuid,
// which outlives the event in its Wire).
//
// It is strict and gives up rather than report: on anything but
// well-formed JSON of the event's shape (a syntax error, invalid UTF-8, an
// unknown or repeated member, a value of the wrong type, an integer of
// more than 18 digits, an out-of-range number, an envelope whose "kind"
// does not come first or does not match) readItem returns ok false and
// parseItemJSONv2 decodes the event again, giving its errors. What it
// accepts, go-json-experiment decodes to the same values (null, as there,
// is a member's zero value), so check reports the same problems; the
// differential tests and fuzz test in read_test.go hold it to that.
//
// This file holds the JSON primitives; the readers of each shape (and
// reader.event, which picks one by kind) are generated from events/event.go
// into read_gen.go by internal/eventgen.

// readItem reads and checks one event, as parseItem does, or returns ok
// false when the event is not one it can vouch for.
func readItem(it item, kind events.Feature) (ev any, errs []FieldError, ok bool) {
	data := it.data
	if len(data) == 0 || data[0] != '{' {
		return nil, nil, false
	}
	r := reader{s: string(data)}
	if isEnvelope(data) {
		// {"kind":"…","event":{…}}, as the simulator writes it.
		r.i = 1
		n := 0
		if !r.more(&n) || r.name() != "kind" {
			return nil, nil, false
		}
		f := events.Feature(r.str())
		if r.bad || !f.Valid() || (kind != "" && f != kind) {
			return nil, nil, false
		}
		if !r.more(&n) || r.name() != "event" {
			return nil, nil, false
		}
		r.ws()
		if r.i == len(r.s) || r.s[r.i] != '{' {
			return nil, nil, false
		}
		kind = f
		ev, errs = r.event(it.line, kind)
		if r.more(&n) {
			return nil, nil, false
		}
	} else {
		if kind == "" {
			return nil, nil, false
		}
		ev, errs = r.event(it.line, kind)
	}
	if r.ws(); r.bad || r.i != len(r.s) {
		return nil, nil, false
	}
	return ev, errs, true
}

// canonical returns the element of list equal to s, or s. An event's uuid
// and label outlive it in its Wire; taking them from small strings of
// their own keeps the whole event's string from being held with them.
func canonical(s string, list []string) string {
	for _, v := range list {
		if v == s {
			return v
		}
	}
	return s
}

// reader reads JSON from s at i. Once bad (input it does not vouch for),
// it stays bad and its methods return zero values.
type reader struct {
	s   string
	i   int
	bad bool
}

func (r *reader) ws() {
	for r.i < len(r.s) {
		switch r.s[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// null reads the literal null if it comes next.
func (r *reader) null() bool {
	if strings.HasPrefix(r.s[r.i:], "null") {
		r.i += len("null")
		return true
	}
	return false
}

// open reads the { of an object, reporting true, or null, reporting false.
func (r *reader) open() bool {
	r.ws()
	switch {
	case r.bad:
	case r.i < len(r.s) && r.s[r.i] == '{':
		r.i++
		return true
	case r.null():
	default:
		r.bad = true
	}
	return false
}

// more reads the , before an object's next member, reporting true, or the
// } that closes it, reporting false. *n counts the members so far.
func (r *reader) more(n *int) bool {
	r.ws()
	switch {
	case r.bad || r.i == len(r.s):
		r.bad = true
		return false
	case r.s[r.i] == '}':
		r.i++
		return false
	case *n > 0:
		if r.s[r.i] != ',' {
			r.bad = true
			return false
		}
		r.i++
	}
	*n++
	return true
}

// name reads a member name and its colon. Names with escapes or other
// than ASCII (never a known member's) make the reader bad.
func (r *reader) name() string {
	r.ws()
	s, i := r.s, r.i
	if r.bad || i == len(s) || s[i] != '"' {
		r.bad = true
		return ""
	}
	start := i + 1
	i = plainEnd(s, start)
	if i == len(s) || s[i] != '"' {
		r.bad = true
		return ""
	}
	name := s[start:i]
	r.i = i + 1
	r.ws()
	if r.i == len(s) || s[r.i] != ':' {
		r.bad = true
		return ""
	}
	r.i++
	return name
}

// once records a member's bit in *seen; a repeated member makes the
// reader bad.
func (r *reader) once(seen *uint32, bit uint32) {
	if *seen&bit != 0 {
		r.bad = true
	}
	*seen |= bit
}

// plain tells the bytes a string holds as they are: printable ASCII but
// the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	t[0x7f] = true
	return t
}()

// plainEnd returns where the run of plain bytes in s from i ends.
func plainEnd(s string, i int) int {
	for i < len(s) && plain[s[i]] {
		i++
	}
	return i
}

// str reads a string or null ("").
func (r *reader) str() string {
	r.ws()
	s, i := r.s, r.i
	switch {
	case r.bad:
		return ""
	case i < len(s) && s[i] == '"':
	case r.null():
		return ""
	default:
		r.bad = true
		return ""
	}
	start := i + 1
	i = plainEnd(s, start)
	if i < len(s) && s[i] == '"' {
		r.i = i + 1
		return s[start:i]
	}
	return r.strRest(start, i)
}

// strRest reads the rest of a string that has escapes or bytes other than
// printable ASCII from i, its contents starting at start.
func (r *reader) strRest(start, i int) string {
	s := r.s
	var buf []byte // the unescaped string, once there is an escape
	from := start  // what is not yet in buf
	ascii := true
	for i < len(s) {
		switch c := s[i]; {
		case plain[c]:
			i++
		case c >= 0x80:
			ascii = false
			i++
		case c == '"':
			if !ascii && !utf8.ValidString(s[start:i]) {
				r.bad = true
				return ""
			}
			r.i = i + 1
			if buf == nil {
				return s[start:i]
			}
			return string(append(buf, s[from:i]...))
		case c == '\\':
			buf = append(buf, s[from:i]...)
			var ok bool
			if buf, i, ok = unescape(buf, s, i); !ok {
				r.bad = true
				return ""
			}
			from = i
		default: // a control character
			r.bad = true
			return ""
		}
	}
	r.bad = true
	return ""
}

// unescape appends the character of the escape sequence at s[i] to buf
// and returns where the sequence ends. A \u escape of half a surrogate
// pair must be followed by the other half.
func unescape(buf []byte, s string, i int) ([]byte, int, bool) {
	if i+1 >= len(s) {
		return buf, i, false
	}
	switch s[i+1] {
	case '"', '\\', '/':
		return append(buf, s[i+1]), i + 2, true
	case 'b':
		return append(buf, '\b'), i + 2, true
	case 'f':
		return append(buf, '\f'), i + 2, true
	case 'n':
		return append(buf, '\n'), i + 2, true
	case 'r':
		return append(buf, '\r'), i + 2, true
	case 't':
		return append(buf, '\t'), i + 2, true
	case 'u':
		c, ok := hex4(s, i+2)
		if !ok {
			return buf, i, false
		}
		i += 6
		switch {
		case c >= 0xDC00 && c < 0xE000:
			return buf, i, false
		case c >= 0xD800 && c < 0xDC00:
			if i+1 >= len(s) || s[i] != '\\' || s[i+1] != 'u' {
				return buf, i, false
			}
			lo, ok := hex4(s, i+2)
			if !ok || lo < 0xDC00 || lo >= 0xE000 {
				return buf, i, false
			}
			c = 0x10000 + (c-0xD800)<<10 + (lo - 0xDC00)
			i += 6
		}
		return utf8.AppendRune(buf, c), i, true
	}
	return buf, i, false
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var c rune
	for _, h := range []byte(s[i : i+4]) {
		switch {
		case h >= '0' && h <= '9':
			h -= '0'
		case h >= 'a' && h <= 'f':
			h -= 'a' - 10
		case h >= 'A' && h <= 'F':
			h -= 'A' - 10
		default:
			return 0, false
		}
		c = c<<4 | rune(h)
	}
	return c, true
}

// strPtr reads a string into *p and returns p, or null (nil).
func (r *reader) strPtr(p *string) *string {
	r.ws()
	if !r.bad && r.null() {
		return nil
	}
	*p = r.str()
	return p
}

// number reads a JSON number and tells whether it is an integer (no
// fraction or exponent).
func (r *reader) number() (lit string, integer bool) {
	s, i := r.s, r.i
	digits := func() bool {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		digits()
	default:
		r.bad = true
		return "", false
	}
	integer = true
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			r.bad = true
			return "", false
		}
		integer = false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			r.bad = true
			return "", false
		}
		integer = false
	}
	lit, r.i = s[r.i:i], i
	return lit, integer
}

// int64 reads an integer of at most 18 digits (larger ones are left to
// go-json-experiment's range errors) or null (0).
func (r *reader) int64() int64 {
	r.ws()
	if r.bad || r.null() {
		return 0
	}
	lit, integer := r.number()
	digits := strings.TrimPrefix(lit, "-")
	if r.bad || !integer || len(digits) > 18 {
		r.bad = true
		return 0
	}
	var v int64
	for _, d := range []byte(digits) {
		v = v*10 + int64(d-'0')
	}
	if len(digits) < len(lit) {
		v = -v
	}
	return v
}

// intPtr reads an int into *p and returns p, or null (nil).
func (r *reader) intPtr(p *int) *int {
	r.ws()
	if !r.bad && r.null() {
		return nil
	}
	v := r.int64()
	if strconv.IntSize == 32 && int64(int32(v)) != v {
		r.bad = true
	}
	*p = int(v)
	return p
}

// float reads a number in range or null (0).
func (r *reader) float() float64 {
	r.ws()
	if r.bad || r.null() {
		return 0
	}
	lit, _ := r.number()
	if r.bad {
		return 0
	}
	v, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		r.bad = true
		return 0
	}
	return v
}
