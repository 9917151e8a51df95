package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/logbookhq/logbook/internal/servertest"
)

// FuzzPageReply posts arbitrary bodies, and real cursors with bytes spliced
// into them, to the real handler. Whatever it accepts, the reply must be
// JSON, and its cursor must be accepted again (issue 12, item 1).
func FuzzPageReply(f *testing.F) {
	clock := &fixedClock{t: t0}
	srv := servertest.Start(f, servertest.Options{Now: clock.Now})
	srv.Append(f, signIn(1, t0.Add(-10*time.Minute)), signIn(2, t0.Add(-5*time.Minute)), audit(1, t0.Add(-time.Minute), srv.Account))
	const si = "/api/v2/signinattempts"
	drained := drain(f, srv.Handler, si, srv.Token, `{"limit":1}`)
	_, b := post(srv.Handler, si, srv.Token, `{"limit":1}`)
	var p1 envelope
	if err := json.Unmarshal(b, &p1); err != nil || !p1.HasMore {
		f.Fatalf("first page: %v, has_more %v: %s", err, p1.HasMore, b)
	}
	first := p1.Cursor
	for _, c := range []string{drained, first} {
		f.Add([]byte(`{"cursor":"`+c+`"}`), uint8(0), "")
		f.Add([]byte(`{"cursor":"`+c+`\n"}`), uint8(0), "")
		f.Add([]byte(`{"cursor":"`+c+`\r\n"}`), uint8(0), "")
		f.Add([]byte(`{"cursor":"`+c+`"}`), uint8(len(c)), `\n`)
		f.Add([]byte(`{"cursor":"`+c+`"}`), uint8(7), `\r`)
		f.Add([]byte(`{"cursor":"`+c+`"}`), uint8(len(c)), `==`)
	}
	f.Add([]byte(`{}`), uint8(0), "")
	f.Add([]byte(`{"limit":2,"start_time":"2026-03-02T08:00:00Z"}`), uint8(0), "")
	f.Add([]byte(`{"cursor":null,"limit":1}`), uint8(0), "")
	f.Fuzz(func(t *testing.T, body []byte, at uint8, splice string) {
		bodies := []string{string(body)}
		// The same mutation on both of the real cursors, so the fuzzer need
		// not find a valid seal by chance.
		for _, c := range []string{drained, first} {
			i := int(at) % (len(c) + 1)
			bodies = append(bodies, `{"cursor":"`+c[:i]+splice+c[i:]+`"}`)
		}
		for _, b := range bodies {
			for _, path := range []string{si, "/api/v1/signinattempts", "/api/v1/auditevents"} {
				code, reply := post(srv.Handler, path, srv.Token, b)
				if code != 200 {
					continue
				}
				var p envelope
				if err := json.Unmarshal(reply, &p); err != nil {
					t.Fatalf("%s %q: 200 with a reply that is not JSON: %v\n%q", path, b, err, reply)
				}
				if p.Items == nil {
					t.Fatalf("%s %q: items missing or null: %q", path, b, reply)
				}
				again, err := json.Marshal(map[string]string{"cursor": p.Cursor})
				if err != nil {
					t.Fatal(err)
				}
				if code, r := post(srv.Handler, path, srv.Token, string(again)); code != 200 {
					t.Fatalf("%s %q: the reply's cursor %q is refused (%d %s)", path, b, p.Cursor, code, strings.TrimSpace(string(r)))
				}
			}
		}
	})
}
