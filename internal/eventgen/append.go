package main

import (
	"bytes"
	"fmt"
	"strings"
)

// writer writes Go code that appends JSON to b, merging consecutive
// literal bytes into one append.
type writer struct {
	b       *bytes.Buffer
	pending string
}

func (w *writer) lit(s string) { w.pending += s }

func (w *writer) flush() {
	switch {
	case w.pending == "":
	case len(w.pending) == 1:
		fmt.Fprintf(w.b, "b = append(b, '%s')\n", w.pending)
	default:
		fmt.Fprintf(w.b, "b = append(b, `%s`...)\n", w.pending)
	}
	w.pending = ""
}

func (w *writer) code(format string, args ...any) {
	w.flush()
	fmt.Fprintf(w.b, format+"\n", args...)
}

func (g *gen) appenders(out *bytes.Buffer) error {
	out.WriteString(header)
	out.WriteString("package events\n\nimport (\n\"fmt\"\n\"strconv\"\n)\n\n")
	out.WriteString("// encode is Encode for the shapes of internal/eventgen's events table.\n")
	out.WriteString("func encode(ev any) (Wire, error) {\nswitch e := ev.(type) {\n")
	for _, s := range g.shapes {
		if s.event == nil || s.event.AppendOnly {
			continue
		}
		fmt.Fprintf(out, "case *%s:\nif e == nil {\nbreak\n}\nreturn encode%[1]s(e)\n", s.Name)
		fmt.Fprintf(out, "case %s:\nreturn encode%[1]s(&e)\n", s.Name)
	}
	out.WriteString("}\nreturn Wire{}, fmt.Errorf(\"encode: %T is not an event\", ev)\n}\n\n")
	for _, s := range g.shapes {
		switch {
		case s.event == nil:
		case s.event.AppendOnly:
			fmt.Fprintf(out, "// AppendJSON appends e's JSON to b, byte for byte as json.Marshal\n// renders it.\nfunc (e *%s) AppendJSON(b []byte) ([]byte, error) {\nb, _, err := e.appendJSON(b, false)\nreturn b, err\n}\n\n", s.Name)
		default:
			if err := g.encodeFunc(out, s); err != nil {
				return err
			}
		}
	}
	for _, s := range g.shapes {
		if s.v2 && s.event == nil {
			var conds []string
			for _, f := range s.Fields {
				if f.V2 {
					conds = append(conds, "v."+f.Go+` != ""`)
				}
			}
			fmt.Fprintf(out, "// hasV2 reports whether v renders differently in v1.\nfunc (v *%s) hasV2() bool {\nreturn v != nil && (%s)\n}\n\n", s.Name, strings.Join(conds, " || "))
			fmt.Fprintf(out, "// v1 returns v without its v2-only members: v itself when it has none.\nfunc (v *%s) v1() *%[1]s {\nif !v.hasV2() {\nreturn v\n}\nc := *v\n", s.Name)
			for _, f := range s.Fields {
				if f.V2 {
					fmt.Fprintf(out, "c.%s = \"\"\n", f.Go)
				}
			}
			out.WriteString("return &c\n}\n\n")
		}
		g.appender(out, s)
	}
	return nil
}

func (g *gen) encodeFunc(out *bytes.Buffer, s *shape) error {
	var ts *field
	var twice []string
	for _, f := range s.Fields {
		if f.Go == "Timestamp" && f.Type == "time.Time" {
			ts = f
		}
		if e := g.elem(f); e != nil && e.v2 {
			twice = append(twice, "e."+f.Go+".hasV2()")
		}
	}
	if ts == nil {
		return fmt.Errorf("%s: an event needs a Timestamp time.Time member", s.Name)
	}
	fmt.Fprintf(out, "// V1 returns the rendering served by /api/v1: e without its v2-only\n// members (api:\"v2\" in event.go), in it and in the shapes it holds.\n")
	fmt.Fprintf(out, "func (e %s) V1() %[1]s {\n", s.Name)
	for _, f := range s.Fields {
		if f.V2 {
			fmt.Fprintf(out, "e.%s = \"\"\n", f.Go)
		}
	}
	for _, f := range s.Fields {
		if e := g.elem(f); e != nil && e.v2 {
			if strings.HasPrefix(f.Type, "*") {
				fmt.Fprintf(out, "e.%s = e.%[1]s.v1()\n", f.Go)
			} else {
				fmt.Fprintf(out, "if v := e.%s.v1(); v != &e.%[1]s {\ne.%[1]s = *v\n}\n", f.Go)
			}
		}
	}
	out.WriteString("return e\n}\n\n")
	fmt.Fprintf(out, "func encode%s(e *%[1]s) (Wire, error) {\n", s.Name)
	fmt.Fprintf(out, "w := Wire{Feature: %s, UUID: e.UUID, Time: e.Timestamp, Label: %s}\n", s.event.Feature, s.event.Label)
	out.WriteString("buf := scratch.Get().(*[]byte)\nb, cut, err := e.appendJSON((*buf)[:0], false)\nn := len(b)\n")
	if len(twice) > 0 {
		cond := strings.Join(twice, " || ")
		if len(twice) > 1 {
			cond = "(" + cond + ")"
		}
		fmt.Fprintf(out, "if err == nil && %s {\nb, _, err = e.appendJSON(b, true)\ncut = n // v1 follows v2 already\n}\n", cond)
	}
	out.WriteString("return w.finish(buf, b, n, cut, err)\n}\n\n")
	return nil
}

// written tells what an appender has written into the object so far.
type written int

const (
	none  written = iota // no member: the next needs no comma
	some                 // a member: the next needs a comma
	maybe                // members or not, known only at run time
)

// always tells whether f is written whatever its value (in v2).
func always(f *field) bool {
	switch {
	case f.V2:
		return false
	case !f.OmitEmpty:
		return true
	}
	// encoding/json never omits a struct or a time.Time.
	return f.Type == "time.Time" || !strings.HasPrefix(f.Type, "*") && !strings.HasPrefix(f.Type, "[]") && !isScalar(f.Type)
}

func isScalar(t string) bool {
	switch t {
	case "string", "int", "int64", "float64":
		return true
	}
	return false
}

func (g *gen) appender(out *bytes.Buffer, s *shape) {
	ev := s.event != nil
	recv := "v"
	fail := "return b, fmt.Errorf(%s)"
	if ev {
		recv = "e"
		fail = "return b, -1, fmt.Errorf(%s)"
		fmt.Fprintf(out, "func (e *%s) appendJSON(b []byte, v1 bool) ([]byte, int, error) {\n", s.Name)
	} else {
		params, results := "", "[]byte"
		if s.v2 {
			params = ", v1 bool"
		}
		if s.errs {
			results = "([]byte, error)"
		}
		fmt.Fprintf(out, "func append%s(b []byte, v *%[1]s%s) %s {\n", s.Name, params, results)
	}
	w := &writer{b: out}
	first := -1
	for i, f := range s.Fields {
		if always(f) {
			first = i
			break
		}
	}
	direct := false
	for _, f := range s.Fields {
		if e := g.elem(f); f.Type == "time.Time" || f.Type == "float64" || (e != nil && e.errs) {
			direct = true
		}
	}
	if direct {
		w.code("var err error")
	}
	w.lit("{")
	if first < 0 {
		w.code("open := len(b)")
	}
	state := none
	var tail []*field // an event's trailing v2 members
	inV1 := false     // inside a nested shape's "if !v1 {"
	for i, f := range s.Fields {
		if f.V2 && ev {
			tail = append(tail, f)
			continue
		}
		if f.V2 != inV1 {
			if f.V2 {
				w.code("if !v1 {")
			} else {
				w.code("}")
			}
			inV1 = f.V2
		}
		x := recv + "." + f.Go
		if always(f) {
			key := `"` + f.JSON + `":`
			if state == some {
				key = "," + key
			}
			state = some
			if strings.HasPrefix(f.Type, "*") || strings.HasPrefix(f.Type, "[]") {
				w.code("if %s == nil {", x)
				w.lit(key + "null")
				w.code("} else {")
				w.lit(key)
				g.value(w, f, x, fail)
				w.code("}")
				continue
			}
			w.lit(key)
			g.value(w, f, x, fail)
			continue
		}
		w.code("if %s {", present(f, x))
		switch {
		case state == some:
			w.lit(`,"` + f.JSON + `":`)
			g.value(w, f, x, fail)
		case state == none && first > i:
			w.lit(`"` + f.JSON + `":`)
			g.value(w, f, x, fail)
			w.lit(",")
		case state == none:
			w.lit(`"` + f.JSON + `":`)
			g.value(w, f, x, fail)
			state = maybe
		default:
			w.code("if len(b) > open {\nb = append(b, ',')\n}")
			w.lit(`"` + f.JSON + `":`)
			g.value(w, f, x, fail)
		}
		w.code("}")
	}
	if inV1 {
		w.code("}")
	}
	if ev {
		w.code("cut := -1")
		switch len(tail) {
		case 0:
		case 1:
			f := tail[0]
			w.code("if !v1 && %s {", present(f, "e."+f.Go))
			w.code("cut = len(b)")
			w.lit(`,"` + f.JSON + `":`)
			g.value(w, f, "e."+f.Go, fail)
			w.code("}")
		default:
			var conds []string
			for _, f := range tail {
				conds = append(conds, present(f, "e."+f.Go))
			}
			w.code("if !v1 {\nif %s {\ncut = len(b)\n}", strings.Join(conds, " || "))
			for _, f := range tail {
				w.code("if %s {", present(f, "e."+f.Go))
				w.lit(`,"` + f.JSON + `":`)
				g.value(w, f, "e."+f.Go, fail)
				w.code("}")
			}
			w.code("}")
		}
	}
	w.lit("}")
	switch {
	case ev:
		w.code("return b, cut, nil")
	case s.errs:
		w.code("return b, nil")
	default:
		w.code("return b")
	}
	w.code("}\n")
}

// present is the condition under which omitempty keeps f, held in x.
func present(f *field, x string) string {
	switch {
	case strings.HasPrefix(f.Type, "*"):
		return x + " != nil"
	case strings.HasPrefix(f.Type, "[]"):
		return "len(" + x + ") > 0"
	case f.Type == "string":
		return x + ` != ""`
	}
	return x + " != 0"
}

// value writes f's value, held in x.
func (g *gen) value(w *writer, f *field, x, fail string) {
	switch f.Type {
	case "string":
		w.code("b = appendString(b, %s)", x)
	case "*string":
		w.code("b = appendString(b, *%s)", x)
	case "int":
		w.code("b = strconv.AppendInt(b, int64(%s), 10)", x)
	case "int64":
		w.code("b = strconv.AppendInt(b, %s, 10)", x)
	case "float64", "time.Time":
		fn := map[string]string{"float64": "appendFloat", "time.Time": "appendTime"}[f.Type]
		w.code("if b, err = %s(b, %s); err != nil {\n"+fail+"\n}", fn, x, fmt.Sprintf(`"%s: %%w", err`, f.JSON))
	default:
		e := g.elem(f)
		if strings.HasPrefix(f.Type, "[]") {
			// One element appended as a member of this shape is; "[" and
			// "]" go through w.lit so that they merge with what is around.
			w.lit("[")
			w.code("for i := range %s {\nif i > 0 {\nb = append(b, ',')\n}", x)
			g.value(w, &field{Type: e.Name, JSON: f.JSON}, x+"[i]", fail)
			w.code("}")
			w.lit("]")
			return
		}
		arg := x
		if !strings.HasPrefix(f.Type, "*") {
			arg = "&" + x
		}
		if e.v2 {
			arg += ", v1"
		}
		if e.errs {
			w.code("if b, err = append%s(b, %s); err != nil {\n"+fail+"\n}", e.Name, arg, fmt.Sprintf(`"%s.%%w", err`, f.JSON))
		} else {
			w.code("b = append%s(b, %s)", e.Name, arg)
		}
	}
}
