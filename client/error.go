package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Error is a reply other than 2xx.
type Error struct {
	// StatusCode is the HTTP status, such as 401 or 429.
	StatusCode int
	// Message is the server's message ("Unauthorized"), taken from the
	// {"Error":{"Message":…}} body, or the start of any other body, or the
	// status text.
	Message string
	// RetryAfter is the wait the server asked for with Retry-After (zero
	// when absent).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := fmt.Sprintf("events API: %d %s", e.StatusCode, e.Message)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// Temporary reports whether the same request may succeed later: 429, 5xx
// and 408.
func (e *Error) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusRequestTimeout || e.StatusCode >= 500
}

func newError(resp *http.Response, body []byte, now time.Time) *Error {
	e := &Error{StatusCode: resp.StatusCode, Message: errorMessage(body)}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	return e
}

// errorMessage reads {"Error":{"Message":…}}, or the {status, message}
// shape of the 1.4.1 reference, or else the first line of a text body.
func errorMessage(body []byte) string {
	var doc struct {
		Error *struct {
			Message string `json:"Message"`
		} `json:"Error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &doc) == nil {
		if doc.Error != nil && doc.Error.Message != "" {
			return doc.Error.Message
		}
		if doc.Message != "" {
			return doc.Message
		}
	}
	s := strings.TrimSpace(string(body))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	if !utf8.ValidString(s) {
		return ""
	}
	return s
}

// parseRetryAfter reads delay-seconds or an HTTP date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > 86400 {
			n = 86400
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
