package api

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustTime(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	t = t.UTC()
	return &t
}

func TestParsePageRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want pageRequest
		err  string // substring naming the field; empty: no error
	}{
		{name: "empty body", body: ""},
		{name: "whitespace body", body: " \n"},
		{name: "empty object", body: "{}"},
		{name: "limit only (Elastic)", body: `{"limit":1000}`, want: pageRequest{Limit: 1000}},
		{name: "limit 1", body: `{"limit":1}`, want: pageRequest{Limit: 1}},
		{name: "integral float limit", body: `{"limit":100.0}`, want: pageRequest{Limit: 100}},
		{name: "eventsapibeat", body: `{ "limit": 1000, "start_time": "2020-01-01T00:00:00Z" }`,
			want: pageRequest{Limit: 1000, Start: mustTime("2020-01-01T00:00:00Z")}},
		{name: "local offset", body: `{"start_time":"2025-03-01T10:00:00-05:00"}`, want: pageRequest{Start: mustTime("2025-03-01T15:00:00Z")}},
		{name: "minus zero offset (Cribl)", body: `{"start_time":"2025-03-01T10:00:00-00:00"}`, want: pageRequest{Start: mustTime("2025-03-01T10:00:00Z")}},
		{name: "microseconds +00:00 (SEKOIA)", body: `{"start_time":"2025-03-01T10:00:00.123456+00:00","end_time":"2025-03-01T11:00:00.123456+00:00","limit":1000}`,
			want: pageRequest{Limit: 1000, Start: mustTime("2025-03-01T10:00:00.123456Z"), End: mustTime("2025-03-01T11:00:00.123456Z")}},
		{name: "milliseconds Z (Sentinel)", body: `{"start_time":"2025-03-01T10:00:00.123Z","limit":100}`,
			want: pageRequest{Limit: 100, Start: mustTime("2025-03-01T10:00:00.123Z")}},
		{name: "nanoseconds", body: `{"start_time":"2025-03-01T10:00:00.123456789Z"}`, want: pageRequest{Start: mustTime("2025-03-01T10:00:00.123456789Z")}},
		{name: "nulls are absent (Cribl first)", body: `{"limit":50,"start_time":"2025-03-01T10:00:00Z","end_time":"2025-03-01T11:00:00Z","cursor":null}`,
			want: pageRequest{Limit: 50, Start: mustTime("2025-03-01T10:00:00Z"), End: mustTime("2025-03-01T11:00:00Z")}},
		{name: "nulls are absent (Cribl next)", body: `{"limit":null,"start_time":null,"end_time":null,"cursor":"abc"}`, want: pageRequest{Cursor: "abc"}},
		{name: "plain cursor", body: `{"cursor":"AQEQ-_09az"}`, want: pageRequest{Cursor: "AQEQ-_09az"}},
		{name: "escaped cursor", body: `{"cursor":"a\u0062c"}`, want: pageRequest{Cursor: "abc"}},
		{name: "cursor with a space", body: `{"cursor":"ab c"}`, want: pageRequest{Cursor: "ab c"}},
		{name: "cursor wins over reset fields (Hel)", body: `{"limit":5000,"start_time":"garbage","cursor":"abc"}`, want: pageRequest{Cursor: "abc"}},
		{name: "empty cursor is a reset", body: `{"cursor":"","limit":10}`, want: pageRequest{Limit: 10}},
		{name: "unknown fields ignored", body: `{"limit":10,"page_size":3,"x":{"y":[1]}}`, want: pageRequest{Limit: 10}},
		{name: "end equals start", body: `{"start_time":"2025-03-01T10:00:00Z","end_time":"2025-03-01T10:00:00Z"}`,
			want: pageRequest{Start: mustTime("2025-03-01T10:00:00Z"), End: mustTime("2025-03-01T10:00:00Z")}},

		{name: "limit over 1000", body: `{"limit":1001}`, err: "limit"},
		{name: "limit 0", body: `{"limit":0}`, err: "limit"},
		{name: "limit negative", body: `{"limit":-5}`, err: "limit"},
		{name: "limit fractional", body: `{"limit":1.5}`, err: "limit"},
		{name: "limit string", body: `{"limit":"100"}`, err: "limit"},
		{name: "malformed start", body: `{"start_time":"2025-03-01 10:00:00"}`, err: "start_time"},
		{name: "date only", body: `{"start_time":"2025-03-01"}`, err: "start_time"},
		{name: "start before year 0 in UTC", body: `{"start_time":"0000-01-01T00:00:00+01:00"}`, err: "start_time"},
		{name: "end after year 9999 in UTC", body: `{"end_time":"9999-12-31T23:30:00-01:00"}`, err: "end_time"},
		{name: "start not a string", body: `{"start_time":12345}`, err: "start_time"},
		{name: "malformed end", body: `{"end_time":"yesterday"}`, err: "end_time"},
		{name: "end before start", body: `{"start_time":"2025-03-01T10:00:00Z","end_time":"2025-03-01T09:59:59Z"}`, err: "end_time"},
		{name: "cursor not a string", body: `{"cursor":42}`, err: "cursor"},
		{name: "malformed JSON", body: `{"limit":`, err: "body"},
		{name: "array body", body: `[]`, err: "body"},
		{name: "string body", body: `"x"`, err: "body"},
		{name: "form encoded", body: `limit=100`, err: "body"},
		{name: "trailing garbage", body: `{"limit":1}x`, err: "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parsePageRequest([]byte(tc.body))
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("parsePageRequest(%s) error = %v, want one naming %q", tc.body, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parsePageRequest(%s) error = %v", tc.body, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parsePageRequest(%s) mismatch (-want +got):\n%s", tc.body, diff)
			}
		})
	}
}

func FuzzParsePageRequest(f *testing.F) {
	for _, s := range []string{"", "{}", `{"limit":1000}`, `{"cursor":"abc"}`, `{"start_time":"2020-01-01T00:00:00Z","end_time":null}`, `{"limit":1e3}`, "[", `{"limit":-0}`, `{"cursor":"AQEQ-_09az"}`, ` {"cursor":"x"} `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parsePageRequest(body)
		if c, ok := plainCursor(bytes.TrimSpace(body)); ok {
			// The decoder-free path must read what the decoder reads.
			var want struct{ Cursor string }
			if jerr := json.Unmarshal(body, &want); jerr != nil || err != nil || want.Cursor != c || r != (pageRequest{Cursor: c}) {
				t.Fatalf("plainCursor(%q) = %q; parsePageRequest = %+v, %v; json: %q, %v", body, c, r, err, want.Cursor, jerr)
			}
		}
		if err != nil {
			return
		}
		if r.Cursor != "" && (r.Limit != 0 || r.Start != nil || r.End != nil) {
			t.Fatalf("cursor request kept reset fields: %+v", r)
		}
		if r.Limit < 0 || r.Limit > maxLimit {
			t.Fatalf("limit %d accepted", r.Limit)
		}
		if r.Start != nil && r.End != nil && r.End.Before(*r.Start) {
			t.Fatalf("end before start accepted: %+v", r)
		}
	})
}
