package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/logbookhq/logbook/events"
)

// SplitPage splits a page body into its envelope and the raw bytes of each
// event, without decoding the events. The items alias data. It checks the
// structure it walks (balanced brackets, terminated strings, the types of
// cursor, has_more and items) but not the inside of each event; unknown
// envelope keys are skipped.
func SplitPage(data []byte) (events.RawPage, error) {
	var p events.RawPage
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return p, errors.New("not a JSON object")
	}
	i++
	seenCursor, seenHasMore, seenItems := false, false, false
	for first := true; ; first = false {
		var end bool
		var err error
		if i, end, err = next(data, i, first, '}'); err != nil {
			return p, err
		} else if end {
			break
		}
		ks, ke, err := scanString(data, i)
		if err != nil {
			return p, err
		}
		key := data[ks+1 : ke-1]
		i = skipSpace(data, ke)
		if i >= len(data) || data[i] != ':' {
			//lint:ignore ST1005 the message ends with the token it wanted
			return p, fmt.Errorf("offset %d: want :", i)
		}
		i = skipSpace(data, i+1)
		switch string(key) {
		case "cursor":
			s, e, err := scanString(data, i)
			if err != nil {
				return p, fmt.Errorf("cursor: %w", err)
			}
			if err := json.Unmarshal(data[s:e], &p.Cursor); err != nil {
				return p, fmt.Errorf("cursor: %w", err)
			}
			seenCursor, i = true, e
		case "has_more":
			switch {
			case hasPrefix(data[i:], "true"):
				p.HasMore, i = true, i+4
			case hasPrefix(data[i:], "false"):
				p.HasMore, i = false, i+5
			default:
				return p, errors.New("has_more: not a boolean")
			}
			seenHasMore = true
		case "items":
			if hasPrefix(data[i:], "null") {
				i += 4
				seenItems = true
				continue
			}
			if p.Items, i, err = splitItems(data, i, "items"); err != nil {
				return p, err
			}
			seenItems = true
		default:
			e, err := skipValue(data, i)
			if err != nil {
				return p, fmt.Errorf("%s: %w", key, err)
			}
			i = e
		}
	}
	if skipSpace(data, i) != len(data) {
		return p, errors.New("data after the page object")
	}
	switch {
	case !seenCursor:
		return p, errors.New("no cursor")
	case !seenHasMore:
		return p, errors.New("no has_more")
	case !seenItems:
		return p, errors.New("no items")
	}
	if p.Items == nil {
		p.Items = []json.RawMessage{}
	}
	return p, nil
}

// next moves past the space before the next member or element of the
// object or array being walked, which end closes, and reports whether it
// is closed (i is then past end). After the first, a member or element
// must follow a comma.
func next(b []byte, i int, first bool, end byte) (int, bool, error) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return i, false, errors.New("unexpected end of input")
	}
	if b[i] == end {
		return i + 1, true, nil
	}
	if !first {
		if b[i] != ',' {
			return i, false, fmt.Errorf("offset %d: want , or %c", i, end)
		}
		i = skipSpace(b, i+1)
	}
	return i, false, nil
}

// splitItems reads the array of objects at data[i:], named name in errors,
// and returns its elements (aliasing data) and the offset after it.
func splitItems(data []byte, i int, name string) ([]json.RawMessage, int, error) {
	if i >= len(data) || data[i] != '[' {
		return nil, i, fmt.Errorf("%s: not an array", name)
	}
	i++
	items := make([]json.RawMessage, 0, 128)
	for n := 0; ; n++ {
		var end bool
		var err error
		if i, end, err = next(data, i, n == 0, ']'); err != nil {
			return nil, i, fmt.Errorf("%s: %w", name, err)
		} else if end {
			return items, i, nil
		}
		if i >= len(data) || data[i] != '{' {
			return nil, i, fmt.Errorf("%s[%d]: not an object", name, n)
		}
		e, err := skipValue(data, i)
		if err != nil {
			return nil, i, fmt.Errorf("%s[%d]: %w", name, n, err)
		}
		items = append(items, json.RawMessage(data[i:e:e]))
		i = e
	}
}

// SplitPageV3 splits a GET /api/v3/auditevents reply into its events'
// raw bytes (aliasing data) and its next_page_token, checking what it
// walks as SplitPage does. audit_events must be there (null counts as
// empty); unknown keys are skipped.
func SplitPageV3(data []byte) (events.PageV3[json.RawMessage], error) {
	var p events.PageV3[json.RawMessage]
	var err error
	seen := false
	walk := EachField(data, func(key, value []byte) bool {
		switch string(key) {
		case "audit_events":
			seen = true
			p.AuditEvents = nil
			if string(value) != "null" {
				var end int
				p.AuditEvents, end, err = splitItems(value, 0, "audit_events")
				if err == nil && end != len(value) {
					err = errors.New("audit_events: data after the array")
				}
			}
		case "next_page_token":
			if string(value) != "null" {
				if e := json.Unmarshal(value, &p.NextPageToken); e != nil {
					err = fmt.Errorf("next_page_token: %w", e)
				}
			}
		}
		return err == nil
	})
	switch {
	case walk != nil:
		return p, walk
	case err != nil:
		return p, err
	case !seen:
		return p, errors.New("no audit_events")
	}
	if p.AuditEvents == nil {
		p.AuditEvents = []json.RawMessage{}
	}
	return p, nil
}

func hasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// scanString returns the bounds [start, end) of the JSON string at i,
// quotes included.
func scanString(b []byte, i int) (int, int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, 0, fmt.Errorf("offset %d: want a string", i)
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return i, j + 1, nil
		case c == '\\':
			j++
		case c < 0x20:
			return 0, 0, fmt.Errorf("offset %d: control character in string", j)
		}
	}
	return 0, 0, errors.New("unterminated string")
}

// skipString returns the end of the JSON string at i (which holds the
// opening quote), finding quotes with bytes.IndexByte; it does not check
// the string's characters.
func skipString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, errors.New("unterminated string")
		}
		q := j + k
		// The quote is escaped if an odd number of backslashes precede it.
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
}

// skipValue returns the end of the JSON value at i. Objects and arrays are
// walked by bracket depth, with strings skipped whole; scalars run to the
// next delimiter.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("unexpected end of input")
	}
	switch b[i] {
	case '"':
		_, e, err := scanString(b, i)
		return e, err
	case '{', '[':
		var stack [64]byte
		depth := 0
		for j := i; j < len(b); j++ {
			switch c := b[j]; c {
			case '"':
				e, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = e - 1
			case '{', '[':
				if depth == len(stack) {
					return 0, errors.New("nested too deeply")
				}
				stack[depth] = c
				depth++
			case '}', ']':
				if depth == 0 || (c == '}') != (stack[depth-1] == '{') {
					return 0, fmt.Errorf("offset %d: mismatched %c", j, c)
				}
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("unexpected end of input")
	}
	j := i
	for j < len(b) {
		c := b[j]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t' {
			break
		}
		if c == '"' || c == '{' || c == '[' || c == ':' {
			return 0, fmt.Errorf("offset %d: unexpected %c", j, c)
		}
		j++
	}
	if j == i {
		return 0, fmt.Errorf("offset %d: want a value", i)
	}
	return j, nil
}

// EachField walks the JSON object data and calls fn with each top-level
// member's key (the bytes between its quotes, escapes left as they are)
// and its value's raw bytes, in order, until fn returns false. It checks
// what it walks as SplitPage does (terminated strings, balanced brackets,
// separators) but does not decode values. It is how a forwarder reads an
// item's "uuid" and "timestamp" without unmarshalling the whole event.
func EachField(data []byte, fn func(key, value []byte) bool) error {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return errors.New("not a JSON object")
	}
	i++
	for first := true; ; first = false {
		var end bool
		var err error
		if i, end, err = next(data, i, first, '}'); err != nil {
			return err
		} else if end {
			if skipSpace(data, i) != len(data) {
				return errors.New("data after the object")
			}
			return nil
		}
		ks, ke, err := scanString(data, i)
		if err != nil {
			return err
		}
		i = skipSpace(data, ke)
		if i >= len(data) || data[i] != ':' {
			return fmt.Errorf("offset %d: want a colon", i)
		}
		i = skipSpace(data, i+1)
		e, err := skipValue(data, i)
		if err != nil {
			return fmt.Errorf("%s: %w", data[ks+1:ke-1], err)
		}
		if !fn(data[ks+1:ke-1], data[i:e]) {
			return nil
		}
		i = e
	}
}
