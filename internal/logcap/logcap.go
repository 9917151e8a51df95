// Package logcap bounds what a request can put into a log line. Values from
// outside (a token's kid, a path, a header, an error built from input) go
// through String or Err where they are logged; Handler caps, as a backstop,
// every string of every record a server logs.
package logcap

import (
	"context"
	"log/slog"
	"strconv"
	"unicode/utf8"
)

// Max is the most bytes of one value that reach a log line. Real kids,
// paths and user agents are well under it.
const Max = 256

// String returns s, or its first Max bytes (cut at a character boundary)
// and how many bytes were left out.
func String(s string) string {
	if len(s) <= Max {
		return s
	}
	cut := Max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…[" + strconv.Itoa(len(s)-cut) + " more bytes]"
}

// Err is String of err's message; "" for nil.
func Err(err error) string {
	if err == nil {
		return ""
	}
	return String(err.Error())
}

// Handler returns a handler that passes records to h with the message and
// every string value capped by String (errors, Stringers and other values
// by their text), in groups too.
func Handler(h slog.Handler) slog.Handler {
	if c, ok := h.(handler); ok {
		return c
	}
	return handler{h}
}

type handler struct{ h slog.Handler }

func (c handler) Enabled(ctx context.Context, l slog.Level) bool { return c.h.Enabled(ctx, l) }

func (c handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(capAttr(a))
		return true
	})
	return c.h.Handle(ctx, out)
}

func (c handler) WithAttrs(as []slog.Attr) slog.Handler {
	capped := make([]slog.Attr, len(as))
	for i, a := range as {
		capped[i] = capAttr(a)
	}
	return handler{c.h.WithAttrs(capped)}
}

func (c handler) WithGroup(name string) slog.Handler { return handler{c.h.WithGroup(String(name))} }

func capAttr(a slog.Attr) slog.Attr {
	a.Key = String(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		capped := make([]slog.Attr, len(g))
		for i, ga := range g {
			capped[i] = capAttr(ga)
		}
		a.Value = slog.GroupValue(capped...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			a.Value = slog.StringValue(Err(x))
		default:
			// Stringers, slices, structs: as they are when their text is
			// short, which keeps them structured in JSON; else the text,
			// capped.
			if s := v.String(); len(s) > Max {
				a.Value = slog.StringValue(String(s))
			} else {
				a.Value = v
			}
		}
	default:
		a.Value = v
	}
	return a
}
