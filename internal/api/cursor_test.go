package api

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/events"
)

var testCodec = newCursorCodec([]byte("0123456789abcdef0123456789abcdef"))

func TestCursorRoundTrip(t *testing.T) {
	acct := events.NewID()
	for _, st := range []cursorState{
		{Account: acct, Feature: events.AuditEvents, After: 0, Limit: 100, Start: time.Unix(0, 1).UTC()},
		{Account: acct, Feature: events.SignInAttempts, After: 1 << 40, Limit: 1000, Start: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 1, 0, 0, 0, 123, time.UTC)},
		{Account: acct, Feature: events.ItemUsages, After: 7, Limit: 1, Start: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Account: acct, Feature: events.ItemUsages, After: 1000, Limit: 1000, Start: time.Unix(0, 1).UTC(), Hint: time.Date(2026, 3, 2, 8, 0, 0, 5, time.UTC)},
		{Account: acct, Feature: events.AuditEvents, After: 9, Limit: 10, Start: time.Unix(0, 1).UTC(), Hint: time.Date(1950, 3, 2, 8, 0, 0, 0, time.UTC)},
	} {
		s := testCodec.encode(st)
		if len(s) > 200 {
			t.Errorf("cursor is %d characters; eventsapibeat budgets about 200", len(s))
		}
		if again := testCodec.encode(st); again != s {
			t.Errorf("encoding is not deterministic: %s vs %s", s, again)
		}
		got, err := testCodec.decode(s)
		if err != nil {
			t.Fatalf("decode(%s): %v", s, err)
		}
		if diff := cmp.Diff(st, got); diff != "" {
			t.Errorf("round trip mismatch (-want +got):\n%s", diff)
		}
	}
}

func TestCursorRejects(t *testing.T) {
	st := cursorState{Account: events.NewID(), Feature: events.AuditEvents, After: 42, Limit: 100, Start: time.Unix(100, 0).UTC()}
	good := testCodec.encode(st)
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	other := cursorCodec{key: []byte("another server's key, not ours!!")}
	for name, c := range map[string]string{
		"empty":             "",
		"not base64":        "!!!",
		"short":             "AAAA",
		"flipped position":  flip(20),
		"flipped tag":       flip(len(raw) - 1),
		"flipped version":   flip(0),
		"other key":         other.encode(st),
		"doc example":       "aGVsbG8hIGlzIGl0IG1lIHlvdSBhcmUgbG9va2luZyBmb3IK",
		"padded base64":     good + "==",
		"truncated":         good[:len(good)-2],
		"too long":          good + string(make([]byte, 600)),
		"standard alphabet": base64.StdEncoding.EncodeToString(raw),
	} {
		if c == good {
			continue
		}
		if _, err := testCodec.decode(c); err == nil {
			t.Errorf("%s: decode(%q) accepted", name, c)
		}
	}
}

func FuzzCursorDecode(f *testing.F) {
	st := cursorState{Account: events.NewID(), Feature: events.ItemUsages, After: 9, Limit: 10, Start: time.Unix(5, 0).UTC()}
	f.Add(testCodec.encode(st))
	f.Add(testCodec.encode(st) + "\r\n")
	hinted := st
	hinted.Hint = time.Unix(7, 0).UTC()
	f.Add(testCodec.encode(hinted))
	f.Add("")
	f.Add("AQEQ")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := testCodec.decode(s)
		if err != nil {
			return
		}
		// Anything accepted was sealed by us: it must re-encode to itself,
		// less the line breaks decode skips (a cursor stored with a
		// trailing newline).
		if again, want := testCodec.encode(got), strings.NewReplacer("\r", "", "\n", "").Replace(s); again != want {
			t.Fatalf("accepted %q but it re-encodes as %q", s, again)
		}
	})
}

// TestCursorHintOptional pins the hint as an optional last field: a
// cursor sealed before it existed (no field) decodes with none, and a
// sealed hint of 0, which encode never writes, is refused.
func TestCursorHintOptional(t *testing.T) {
	st := cursorState{Account: events.NewID(), Feature: events.ItemUsages, After: 42, Limit: 100, Start: time.Unix(100, 0).UTC()}
	old := testCodec.encode(st) // no hint: the layout before hints
	withHint := st
	withHint.Hint = time.Unix(200, 0).UTC()
	hinted := testCodec.encode(withHint)
	if len(hinted) <= len(old) {
		t.Fatalf("hinted cursor %q is no longer than %q", hinted, old)
	}
	got, err := testCodec.decode(old)
	if err != nil || !got.Hint.IsZero() || got.After != 42 {
		t.Fatalf("decode(cursor without hint) = %+v, %v; want After 42 and no hint", got, err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(old)
	body := append(raw[:len(raw)-tagLen:len(raw)-tagLen], 0) // varint 0
	zero := base64.RawURLEncoding.EncodeToString(testCodec.tag(body, body)[:len(body)+tagLen])
	if got, err := testCodec.decode(zero); err == nil {
		t.Errorf("decode(cursor with a sealed hint of 0) = %+v, want an error", got)
	}
}

// TestNextStateHint: the state after a page hints at the time of its last
// row only when the page had more after it; a draining page that read rows
// clears the hint, so a connector polling at the head sends none, and a
// page that read none keeps the hint it had (a poll at the end of the
// stream answers with its own cursor).
func TestNextStateHint(t *testing.T) {
	st := cursorState{Account: events.NewID(), Feature: events.ItemUsages, After: 10, Limit: 5, Hint: time.Unix(50, 0).UTC()}
	row := time.Unix(90, 0).UTC()
	for _, c := range []struct {
		name     string
		last     int64
		more     bool
		lastTime time.Time
		want     cursorState
	}{
		{"more", 15, true, row, cursorState{Account: st.Account, Feature: st.Feature, After: 15, Limit: 5, Hint: row}},
		{"drained", 12, false, row, cursorState{Account: st.Account, Feature: st.Feature, After: 12, Limit: 5}},
		{"more, none read", 20, true, time.Time{}, cursorState{Account: st.Account, Feature: st.Feature, After: 20, Limit: 5, Hint: st.Hint}},
		{"drained, none read", 10, false, time.Time{}, st},
		{"never back", 3, false, time.Time{}, st},
	} {
		if diff := cmp.Diff(c.want, nextState(st, c.last, c.more, c.lastTime)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
}
