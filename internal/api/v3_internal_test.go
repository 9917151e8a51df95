package api

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
)

// TestParseV3Query is the request table of every query parameter rule
// (docs/v3.md, "Query parameters").
func TestParseV3Query(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		want        v3Request
		err         string // substring naming the parameter; empty: no error
	}{
		{name: "no query", query: ""},
		{name: "max_page_size 0 is absent", query: "max_page_size=0"},
		{name: "max_page_size 1", query: "max_page_size=1", want: v3Request{Limit: 1}},
		{name: "max_page_size 1000", query: "max_page_size=1000", want: v3Request{Limit: 1000}},
		{name: "page_size alias", query: "page_size=50", want: v3Request{Limit: 50}},
		{name: "name and alias agree", query: "page_size=50&max_page_size=50", want: v3Request{Limit: 50}},
		{name: "repeated, same value", query: "max_page_size=7&max_page_size=7", want: v3Request{Limit: 7}},
		{name: "empty value is absent", query: "max_page_size=&start_time=&page_token="},
		{name: "start and end (REF3 example)", query: "max_page_size=50&start_time=2026-05-29T18:00:00Z&end_time=2026-05-29T18:59:59Z",
			want: v3Request{Limit: 50, Start: mustTime("2026-05-29T18:00:00Z"), End: mustTime("2026-05-29T18:59:59Z")}},
		{name: "escaped offset", query: "start_time=2026-01-01T00:00:00%2B02:00", want: v3Request{Start: mustTime("2025-12-31T22:00:00Z")}},
		{name: "unescaped offset arrives as a space", query: "start_time=2026-01-01T00:00:00+02:00", want: v3Request{Start: mustTime("2025-12-31T22:00:00Z")}},
		{name: "nanoseconds", query: "end_time=2026-01-01T00:00:00.123456789Z", want: v3Request{End: mustTime("2026-01-01T00:00:00.123456789Z")}},
		{name: "end equals start", query: "start_time=2026-01-01T00:00:00Z&end_time=2026-01-01T00:00:00Z",
			want: v3Request{Start: mustTime("2026-01-01T00:00:00Z"), End: mustTime("2026-01-01T00:00:00Z")}},
		{name: "page_token", query: "page_token=abc", want: v3Request{Token: "abc"}},
		{name: "next_page_token alias", query: "next_page_token=abc", want: v3Request{Token: "abc"}},
		{name: "page_token with max_page_size", query: "page_token=abc&max_page_size=3", want: v3Request{Token: "abc", Limit: 3}},
		{name: "unknown parameters ignored", query: "limit=5&cursor=x&max_page_size=2", want: v3Request{Limit: 2}},

		{name: "max_page_size 1001", query: "max_page_size=1001", err: "max_page_size"},
		{name: "max_page_size negative", query: "max_page_size=-1", err: "max_page_size"},
		{name: "max_page_size fractional", query: "max_page_size=1.5", err: "max_page_size"},
		{name: "max_page_size word", query: "max_page_size=ten", err: "max_page_size"},
		{name: "page_size 0 (older range 1-1000)", query: "page_size=0", err: "page_size"},
		{name: "page_size 1001", query: "page_size=1001", err: "page_size"},
		{name: "name and alias disagree", query: "page_size=5&max_page_size=6", err: "max_page_size"},
		{name: "repeated, other value", query: "start_time=2026-01-01T00:00:00Z&start_time=2026-01-02T00:00:00Z", err: "start_time"},
		{name: "malformed start", query: "start_time=yesterday", err: "start_time"},
		{name: "date only", query: "end_time=2026-01-01", err: "end_time"},
		{name: "start before year 0 in UTC", query: "start_time=0000-01-01T00:00:00%2B01:00", err: "start_time"},
		{name: "end after year 9999 in UTC", query: "end_time=9999-12-31T23:30:00-01:00", err: "end_time"},
		{name: "end before start", query: "start_time=2026-01-02T00:00:00Z&end_time=2026-01-01T00:00:00Z", err: "end_time"},
		{name: "start with page_token", query: "page_token=abc&start_time=2026-01-01T00:00:00Z", err: "page_token"},
		{name: "end with next_page_token", query: "next_page_token=abc&end_time=2026-01-01T00:00:00Z", err: "page_token"},
		{name: "two tokens", query: "page_token=abc&next_page_token=abd", err: "page_token"},
		{name: "bad escape", query: "page_token=%zz", err: "query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseV3Query(tc.query)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parseV3Query(%s) = %+v, %v; want an error naming %s", tc.query, got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseV3Query(%s): %v", tc.query, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseV3Query(%s) mismatch (-want +got):\n%s", tc.query, diff)
			}
		})
	}
}

// TestPageTokensAreNotCursors: the same state sealed as a page token and as
// a cursor gives two strings, and each opens only as what it is.
func TestPageTokensAreNotCursors(t *testing.T) {
	st := cursorState{Account: events.NewID(), Feature: events.AuditEvents, After: 42, Limit: 7, Start: time.Unix(5, 0).UTC()}
	tok, cur := testCodec.seal(pageTokenVersion, st), testCodec.encode(st)
	if tok == cur {
		t.Fatal("page token equals cursor")
	}
	if got, err := testCodec.open(pageTokenVersion, tok); err != nil || got != st {
		t.Errorf("page token round trip: %+v, %v", got, err)
	}
	if _, err := testCodec.decode(tok); err == nil {
		t.Error("a page token decodes as a cursor")
	}
	if _, err := testCodec.open(pageTokenVersion, cur); err == nil {
		t.Error("a cursor opens as a page token")
	}
}

func FuzzParseV3Query(f *testing.F) {
	for _, s := range []string{"", "max_page_size=0", "page_size=1000&start_time=2026-01-01T00:00:00Z", "page_token=abc",
		"start_time=2026-01-01T00:00:00+02:00&end_time=2026-01-02T00:00:00Z", "max_page_size=5&page_size=5", "%", "a=1&a=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		r, err := parseV3Query(query)
		if err != nil {
			return
		}
		if r.Limit < 0 || r.Limit > maxLimit {
			t.Fatalf("limit %d accepted", r.Limit)
		}
		if r.Token != "" && (r.Start != nil || r.End != nil) {
			t.Fatalf("page token with a time bound accepted: %+v", r)
		}
		if r.Start != nil && r.End != nil && r.End.Before(*r.Start) {
			t.Fatalf("end before start accepted: %+v", r)
		}
		// What was accepted is read the same from its canonical query.
		q := url.Values{}
		if r.Limit > 0 {
			q.Set("max_page_size", strconv.Itoa(r.Limit))
		}
		if r.Start != nil {
			q.Set("start_time", r.Start.Format(time.RFC3339Nano))
		}
		if r.End != nil {
			q.Set("end_time", r.End.Format(time.RFC3339Nano))
		}
		if r.Token != "" {
			q.Set("page_token", r.Token)
		}
		again, err := parseV3Query(q.Encode())
		if err != nil {
			t.Fatalf("%q accepted as %+v, whose query %q is refused: %v", query, r, q.Encode(), err)
		}
		if diff := cmp.Diff(r, again); diff != "" {
			t.Fatalf("%q: re-read differs (-first +again):\n%s", query, diff)
		}
	})
}

func FuzzPageTokenDecode(f *testing.F) {
	st := cursorState{Account: events.NewID(), Feature: events.AuditEvents, After: 9, Limit: 10, Start: time.Unix(5, 0).UTC()}
	f.Add(testCodec.seal(pageTokenVersion, st))
	f.Add(testCodec.encode(st))
	f.Add("")
	f.Add("AwMQ")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := testCodec.open(pageTokenVersion, s)
		if err != nil {
			return
		}
		if _, err := testCodec.decode(s); err == nil {
			t.Fatalf("%q opens both as a page token and as a cursor", s)
		}
		if again, want := testCodec.seal(pageTokenVersion, got), strings.NewReplacer("\r", "", "\n", "").Replace(s); again != want {
			t.Fatalf("accepted %q but it re-seals as %q", s, again)
		}
	})
}
