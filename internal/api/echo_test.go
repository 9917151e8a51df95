package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/internal/servertest"
)

// drain pages url from a reset to the end of its stream and returns the
// cursor of the last page.
func drain(t testing.TB, h http.Handler, url, token, reset string) string {
	t.Helper()
	body := reset
	for range 1000 {
		code, b := post(h, url, token, body)
		if code != 200 {
			t.Fatalf("drain: status %d, body %s", code, b)
		}
		var p envelope
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("drain: %v\n%s", err, b)
		}
		if !p.HasMore {
			return p.Cursor
		}
		body = `{"cursor":"` + p.Cursor + `"}`
	}
	t.Fatal("drain: still has_more after 1,000 pages")
	return ""
}

// post sends body to the handler in process and returns the status and body.
func post(h http.Handler, url, token, body string) (int, []byte) {
	req := httptest.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// TestDrainedCursorEcho: the end of a stream answers with the canonical
// cursor, never the request's bytes. Decoding ignores CR and LF, and the
// Splunk add-on stores its cursor with a trailing newline, so a verbatim
// echo put a raw line feed inside a JSON string (issue 12, item 1).
func TestDrainedCursorEcho(t *testing.T) {
	clock := &fixedClock{t: t0}
	srv := servertest.Start(t, servertest.Options{Now: clock.Now})
	srv.Append(t, signIn(1, t0.Add(-10*time.Minute)), signIn(2, t0.Add(-5*time.Minute)))
	for _, path := range []string{"/api/v1/signinattempts", "/api/v2/signinattempts", "/api/v2/itemusages"} {
		c := drain(t, srv.Handler, path, srv.Token, `{"limit":1}`)
		for name, body := range map[string]string{
			"trailing LF (JSON escape)":   `{"cursor":"` + c + `\n"}`,
			"trailing CRLF (JSON escape)": `{"cursor":"` + c + `\r\n"}`,
			"LF as \\u000a":               `{"cursor":"` + c + `\u000a"}`,
			"CR and LF inside":            `{"cursor":"` + c[:5] + `\r\n` + c[5:] + `"}`,
			"leading LF":                  `{"cursor":"\n` + c + `"}`,
			"whitespace around the body":  "\r\n" + `{"cursor":"` + c + `"}` + "\n",
			"the cursor as it is":         `{"cursor":"` + c + `"}`,
		} {
			code, b := post(srv.Handler, path, srv.Token, body)
			if code != 200 {
				t.Errorf("%s %s: status %d, body %s", path, name, code, b)
				continue
			}
			var p envelope
			if err := json.Unmarshal(b, &p); err != nil {
				t.Errorf("%s %s: reply is not JSON: %v\n%q", path, name, err, b)
				continue
			}
			if p.Cursor != c || p.HasMore || len(p.Items) != 0 {
				t.Errorf("%s %s: cursor %q, has_more %v, %d items; want %q, false, 0", path, name, p.Cursor, p.HasMore, len(p.Items), c)
			}
			if want := `{"cursor":"` + c + `","has_more":false,"items":[]}`; !bytes.Equal(b, []byte(want)) {
				t.Errorf("%s %s: body %q, want %q", path, name, b, want)
			}
		}
		// A raw line feed inside the JSON string is not JSON: refused.
		if code, b := post(srv.Handler, path, srv.Token, "{\"cursor\":\""+c+"\n\"}"); code != 400 {
			t.Errorf("%s raw LF in the string: status %d, body %s; want 400", path, code, b)
		}
	}
}
