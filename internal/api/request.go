package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

const (
	defaultLimit = 100
	maxLimit     = 1000
	// maxBody bounds a request body. Real bodies are under 200 bytes; a
	// cursor is under 100.
	maxBody = 64 << 10
)

// pageRequest is a parsed event-endpoint body: either a cursor, or a reset
// with its fields (nil when absent or null).
type pageRequest struct {
	Cursor string
	Limit  int // 0: absent
	Start  *time.Time
	End    *time.Time
}

// parsePageRequest reads a body as JSON whatever its Content-Type. An empty
// body is {}. null is absent; unknown fields are ignored; a non-empty cursor
// wins over the reset fields, which are then not even validated (Hel sends
// both, spec §3). The error says which field is wrong and why; it is logged,
// never sent.
func parsePageRequest(body []byte) (pageRequest, error) {
	var r pageRequest
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return r, nil
	}
	if c, ok := plainCursor(body); ok {
		return pageRequest{Cursor: c}, nil
	}
	var raw struct {
		Limit     json.RawMessage `json:"limit"`
		StartTime json.RawMessage `json:"start_time"`
		EndTime   json.RawMessage `json:"end_time"`
		Cursor    json.RawMessage `json:"cursor"`
	}
	if body[0] != '{' {
		return r, fmt.Errorf("body: want a JSON object")
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return r, fmt.Errorf("body: %v", err)
	}
	if !isNull(raw.Cursor) {
		if err := json.Unmarshal(raw.Cursor, &r.Cursor); err != nil {
			return r, fmt.Errorf("cursor: want a string")
		}
		if r.Cursor != "" {
			return pageRequest{Cursor: r.Cursor}, nil
		}
	}
	if !isNull(raw.Limit) {
		var f float64
		if err := json.Unmarshal(raw.Limit, &f); err != nil {
			return r, fmt.Errorf("limit: want a number")
		}
		if f != math.Trunc(f) || f < 1 || f > maxLimit {
			return r, fmt.Errorf("limit: %s is not an integer from 1 to %d", raw.Limit, maxLimit)
		}
		r.Limit = int(f)
	}
	var err error
	if r.Start, err = parseTime("start_time", raw.StartTime); err != nil {
		return r, err
	}
	if r.End, err = parseTime("end_time", raw.EndTime); err != nil {
		return r, err
	}
	if r.Start != nil && r.End != nil && r.End.Before(*r.Start) {
		return r, fmt.Errorf("end_time: %s is before start_time %s", r.End.Format(time.RFC3339Nano), r.Start.Format(time.RFC3339Nano))
	}
	return r, nil
}

func isNull(m json.RawMessage) bool {
	return len(m) == 0 || string(m) == "null"
}

// parseTime accepts RFC 3339 with any offset and 0–9 fractional digits.
func parseTime(field string, m json.RawMessage) (*time.Time, error) {
	if isNull(m) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(m, &s); err != nil {
		return nil, fmt.Errorf("%s: want an RFC 3339 string", field)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not an RFC 3339 time", field, s)
	}
	return inUTCYears(field, s, t)
}

// inUTCYears converts t to UTC and refuses it when its UTC year is outside
// 0000–9999: RFC 3339 cannot write such a time, so it could not be echoed
// in a cursor, a page token or an error ("0000-01-01T00:00:00+01:00" is
// year -1 in UTC).
func inUTCYears(field, s string, t time.Time) (*time.Time, error) {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("%s: %q is outside the years 0000-9999 in UTC", field, s)
	}
	return &t, nil
}

// plainCursor reads the body a connector sends with every poll,
// {"cursor":"…"} with a cursor in the base64url alphabet and nothing else,
// without a JSON decoder; ok is false for any other body (parsePageRequest
// then decodes it, to the same result for this one).
func plainCursor(body []byte) (string, bool) {
	const pre, post = `{"cursor":"`, `"}`
	if len(body) <= len(pre)+len(post) || !bytes.HasPrefix(body, []byte(pre)) || !bytes.HasSuffix(body, []byte(post)) {
		return "", false
	}
	c := body[len(pre) : len(body)-len(post)]
	for _, b := range c {
		if !('A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '-' || b == '_') {
			return "", false
		}
	}
	return string(c), true
}
