package logcap

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"short", "short"},
		{strings.Repeat("a", Max), strings.Repeat("a", Max)},
		{strings.Repeat("a", Max+1), strings.Repeat("a", Max) + "…[1 more bytes]"},
		{strings.Repeat("a", Max-1) + "é" + "zz", strings.Repeat("a", Max-1) + "…[4 more bytes]"},
	} {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%d bytes) = %q, want %q", len(tc.in), got, tc.want)
		}
		if !utf8.ValidString(String(tc.in)) {
			t.Errorf("String(%q) is not UTF-8", tc.in)
		}
	}
	if Err(nil) != "" || Err(errors.New(strings.Repeat("e", 1e6))) != String(strings.Repeat("e", 1e6)) {
		t.Error("Err does not cap like String")
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	huge := strings.Repeat("x", 1<<20)
	log := slog.New(Handler(slog.NewJSONHandler(&buf, nil)))
	log.With("with", huge).WithGroup("g").Info(huge, "s", huge, "err", errors.New(huge), "str", stringer(huge),
		"bytes", []byte(huge), slog.Group("grp", "inner", huge), "n", 42, "ok", true, "list", []string{"a", "b"})
	if buf.Len() > 4<<10 {
		t.Errorf("one record with 1 MB values logged %d bytes: %.300s", buf.Len(), buf.String())
	}
	for _, want := range []string{`"n":42`, `"ok":true`, `"list":["a","b"]`, "more bytes]"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("record lacks %s: %s", want, buf.String())
		}
	}
}
