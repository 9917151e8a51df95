package main

import (
	"bytes"
	"fmt"
	"strings"
)

// ingested returns the shapes ingestion reads: the events marked Ingest
// and the shapes they hold, in event.go's order.
func (g *gen) ingested() []*shape {
	need := map[*shape]bool{}
	var walk func(s *shape)
	walk = func(s *shape) {
		if need[s] {
			return
		}
		need[s] = true
		for _, f := range s.Fields {
			if e := g.elem(f); e != nil {
				walk(e)
			}
		}
	}
	for _, s := range g.ingestedEvents() {
		walk(s)
	}
	var out []*shape
	for _, s := range g.shapes {
		if need[s] {
			out = append(out, s)
		}
	}
	return out
}

// ingestedEvents returns the events ingestion reads.
func (g *gen) ingestedEvents() []*shape {
	var out []*shape
	for _, s := range g.shapes {
		if s.event != nil && s.event.Ingest {
			out = append(out, s)
		}
	}
	return out
}

// inName is the type ingestion reads s into: events.S itself, or, for a
// shape with times, s's input shape, which holds them as strings so that
// a bad one is reported by its member's name.
func inName(s *shape) string {
	if s.needsIn {
		return lowerFirst(s.Name) + "In"
	}
	return "events." + s.Name
}

// inType is the type of f in its shape's input shape.
func (g *gen) inType(f *field) string {
	switch f.Type {
	case "time.Time":
		return "string"
	case "int":
		if f.check.required {
			return "*int" // to tell absent from 0
		}
		return "int"
	case "string", "*string", "int64", "float64":
		return f.Type
	}
	return "*" + inName(g.elem(f))
}

// slot is the type of a box member that f's pointer points to.
func slot(inType string) string { return strings.TrimPrefix(inType, "*") }

func (g *gen) readers(out *bytes.Buffer) error {
	out.WriteString(header)
	out.WriteString("package ingest\n\nimport (\n\"strings\"\n\n")
	out.WriteString("jsonv2 \"github.com/go-json-experiment/json\"\n\n\"github.com/logbookhq/logbook/events\"\n)\n\n")

	// event
	out.WriteString("// event reads an event of kind, an object, and checks it.\n")
	out.WriteString("func (r *reader) event(line int, kind events.Feature) (any, []FieldError) {\nc := checker{line: line}\nvar ev any\nswitch kind {\n")
	for _, s := range g.ingestedEvents() {
		fmt.Fprintf(out, "case events.%s:\nb := new(%sBox)\nif r.read%s(b); r.bad {\nreturn nil, nil\n}\n", s.event.Feature, lowerFirst(s.Name), s.Name)
		out.WriteString("e := &b.ev\n*e = b.in.check(&c)\ne.UUID = strings.Clone(e.UUID)\n")
		for _, name := range s.event.Canonical {
			f := s.field(name)
			fmt.Fprintf(out, "e.%s = canonical(e.%[1]s, events.%s)\n", f.Go, f.check.enum)
		}
		out.WriteString("ev = e\n")
	}
	out.WriteString("default:\nr.bad = true\nreturn nil, nil\n}\nif len(c.errs) > 0 {\nreturn nil, c.errs\n}\nreturn ev, nil\n}\n\n")

	// decodeJSONv2
	out.WriteString("// decodeJSONv2 decodes data, an event of kind, with go-json-experiment\n// and checks it; known is false for a kind of no shape.\n")
	out.WriteString("func decodeJSONv2(data []byte, kind events.Feature, c *checker) (ev any, known bool, err error) {\nswitch kind {\n")
	for _, s := range g.ingestedEvents() {
		fmt.Fprintf(out, "case events.%s:\nvar in %s\nif err = jsonv2.Unmarshal(data, &in, jsonv2.RejectUnknownMembers(true)); err == nil {\nev = in.check(c)\n}\nreturn ev, true, err\n", s.event.Feature, inName(s))
	}
	out.WriteString("}\nreturn nil, false, nil\n}\n\n")

	out.WriteString("// The boxes hold an event, its input shape and what their pointers point\n// to, so that reading one event allocates once.\n\n")
	for _, s := range g.ingestedEvents() {
		fmt.Fprintf(out, "type %sBox struct {\nev events.%s\nin %s\n", lowerFirst(s.Name), s.Name, inName(s))
		for _, f := range s.Fields {
			if t := g.inType(f); strings.HasPrefix(t, "*") {
				fmt.Fprintf(out, "%s %s\n", lowerFirst(f.Go), slot(t))
			}
		}
		out.WriteString("}\n\n")
	}
	for _, s := range g.ingested() {
		if err := g.reader(out, s); err != nil {
			return err
		}
	}
	return nil
}

func (s *shape) field(goName string) *field {
	for _, f := range s.Fields {
		if f.Go == goName {
			return f
		}
	}
	return nil
}

func (g *gen) reader(out *bytes.Buffer, s *shape) error {
	ev := s.event != nil
	if ev {
		fmt.Fprintf(out, "func (r *reader) read%s(b *%sBox) {\nin := &b.in\nvar seen uint32\nr.open()\n", s.Name, lowerFirst(s.Name))
	} else {
		fmt.Fprintf(out, "// read%s reads an object into v, or null (nil).\n", s.Name)
		fmt.Fprintf(out, "func (r *reader) read%s(v *%s) *%[2]s {\nif !r.open() {\nreturn nil\n}\nvar seen uint32\n", s.Name, inName(s))
	}
	out.WriteString("for n := 0; r.more(&n); {\nswitch r.name() {\n")
	for i, f := range s.Fields {
		x := "v." + f.Go
		if ev {
			x = "in." + f.Go
		}
		t := g.inType(f)
		var val string
		switch t {
		case "string":
			val = "r.str()"
		case "int64":
			val = "r.int64()"
		case "float64":
			val = "r.float()"
		case "*string":
			val = "r.strPtr(&b.%s)"
		case "*int":
			val = "r.intPtr(&b.%s)"
		default:
			if !strings.HasPrefix(t, "*") {
				return fmt.Errorf("%s.%s: the reader cannot read a %s", s.Name, f.Go, t)
			}
			val = "r.read" + g.elem(f).Name + "(&b.%s)"
		}
		if strings.Contains(val, "%s") {
			if !ev {
				return fmt.Errorf("%s.%s: the reader cannot read a pointer inside a nested shape", s.Name, f.Go)
			}
			val = fmt.Sprintf(val, lowerFirst(f.Go))
		}
		fmt.Fprintf(out, "case %q:\nr.once(&seen, 1<<%d)\n%s = %s\n", f.JSON, i, x, val)
	}
	out.WriteString("default:\nr.bad = true\n}\n}\n")
	if !ev {
		out.WriteString("return v\n")
	}
	out.WriteString("}\n\n")
	return nil
}

func (g *gen) checks(out *bytes.Buffer) error {
	out.WriteString(header)
	out.WriteString("package ingest\n\nimport \"github.com/logbookhq/logbook/events\"\n\n")
	out.WriteString("// The input shapes: the shapes with times, kept as strings, so that a\n// bad one is reported with its member's name.\n\n")
	for _, s := range g.ingested() {
		if !s.needsIn {
			continue
		}
		fmt.Fprintf(out, "type %s struct {\n", inName(s))
		for _, f := range s.Fields {
			fmt.Fprintf(out, "%s %s `json:%q`\n", f.Go, g.inType(f), f.JSON)
		}
		out.WriteString("}\n\n")
	}
	for _, s := range g.ingested() {
		if err := g.checker(out, s); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) checker(out *bytes.Buffer, s *shape) error {
	ev := s.event != nil
	x, parent := "v", "field"
	switch {
	case ev:
		x, parent = "in", `""`
		fmt.Fprintf(out, "func (in *%s) check(c *checker) events.%s {\n", inName(s), s.Name)
	default:
		req, result := "", ""
		if s.ifReq {
			req = ", required bool"
		}
		if s.needsIn {
			result = " events." + s.Name
		}
		fmt.Fprintf(out, "// check%s checks v, found at field.\n", s.Name)
		fmt.Fprintf(out, "func (c *checker) check%s(field string, v *%s%s)%s {\n", s.Name, inName(s), req, result)
	}
	var lit []string   // the members of the result
	var after []string // value members copied after
	for _, f := range s.Fields {
		xf := x + "." + f.Go
		name := fmt.Sprintf("%q", f.JSON)
		req := fmt.Sprint(f.check.required)
		if f.check.ifRequired {
			req = "required"
		}
		v := "v" + f.Go
		bad := func(format string) error {
			return fmt.Errorf("%s.%s: check %s does not apply to %s", s.Name, f.Go, format, f.Type)
		}
		switch f.Type {
		case "string", "*string":
			arg := xf
			if f.Type == "*string" {
				arg = "*" + xf
				fmt.Fprintf(out, "if %s != nil {\n", xf)
			}
			switch f.check.kind {
			case "", "text":
				fmt.Fprintf(out, "c.text(%s, %s, %s, %s)\n", parent, name, arg, req)
			case "upperid":
				fmt.Fprintf(out, "c.upperID(%s, %s, %s, %s)\n", parent, name, arg, req)
			case "lowerid":
				fmt.Fprintf(out, "c.lowerID(%s, %s, %s, %s)\n", parent, name, arg, req)
			case "anyid":
				fmt.Fprintf(out, "c.anyID(%s, %s, %s)\n", parent, name, arg)
			case "ip":
				fmt.Fprintf(out, "c.ip(%s, %s, %s, %s)\n", parent, name, arg, req)
			case "enum":
				fmt.Fprintf(out, "c.enum(%s, %s, %s, events.%s, %s)\n", parent, name, arg, f.check.enum, req)
			case "hook":
				fmt.Fprintf(out, "c.%s(%s)\n", f.check.hook, x)
			case "none":
			}
			if f.check.email {
				fmt.Fprintf(out, "c.email(%s, %s, %s)\n", parent, name, arg)
			}
			if f.Type == "*string" {
				out.WriteString("}\n")
			}
			lit = append(lit, f.Go+": "+xf)
		case "time.Time":
			fmt.Fprintf(out, "%s := c.stamp(%s, %s, %s)\n", v, parent, name, xf)
			lit = append(lit, f.Go+": "+v)
		case "int", "int64":
			if f.check.kind != "" || f.check.lo != "" {
				return bad(f.check.kind)
			}
			if g.inType(f) == "*int" {
				fmt.Fprintf(out, "%s := 0\nswitch {\ncase %s == nil:\nc.fail(%s, %s, \"is required\")\n", v, xf, parent, name)
				if f.check.nonneg {
					fmt.Fprintf(out, "case *%s < 0:\nc.fail(%s, %s, \"%%d is negative\", *%[1]s)\n", xf, parent, name)
				}
				fmt.Fprintf(out, "default:\n%s = *%s\n}\n", v, xf)
				lit = append(lit, f.Go+": "+v)
				break
			}
			if f.check.required {
				return bad("required")
			}
			if f.check.nonneg {
				fmt.Fprintf(out, "if %s < 0 {\nc.fail(%s, %s, \"%%d is negative\", %[1]s)\n}\n", xf, parent, name)
			}
			lit = append(lit, f.Go+": "+xf)
		case "float64":
			if f.check.kind != "" || f.check.required {
				return bad(f.check.kind)
			}
			if f.check.lo != "" {
				fmt.Fprintf(out, "c.between(%s, %s, %s, %s, %s)\n", parent, name, xf, f.check.lo, f.check.hi)
			}
			lit = append(lit, f.Go+": "+xf)
		default:
			e := g.elem(f)
			if f.check.kind != "" || f.check.ifRequired {
				return bad(f.check.kind)
			}
			path := name
			if !ev {
				path = fmt.Sprintf("field + \".%s\"", f.JSON)
			}
			args := path + ", " + xf
			if e.ifReq {
				args += ", " + req
			}
			ptr := strings.HasPrefix(f.Type, "*")
			if e.needsIn {
				if ptr {
					fmt.Fprintf(out, "var %s *events.%s\n", v, e.Name)
				} else {
					fmt.Fprintf(out, "var %s events.%s\n", v, e.Name)
				}
				lit = append(lit, f.Go+": "+v)
			} else if ptr {
				lit = append(lit, f.Go+": "+xf)
			} else {
				after = append(after, fmt.Sprintf("if %s != nil {\nev.%s = *%[1]s\n}\n", xf, f.Go))
			}
			if f.check.required {
				fmt.Fprintf(out, "if %s == nil {\nc.fail(%s, %s, \"is required\")\n} else {\n", xf, parent, name)
			} else {
				fmt.Fprintf(out, "if %s != nil {\n", xf)
			}
			switch {
			case e.needsIn && ptr:
				fmt.Fprintf(out, "checked := c.check%s(%s)\n%s = &checked\n", e.Name, args, v)
			case e.needsIn:
				fmt.Fprintf(out, "%s = c.check%s(%s)\n", v, e.Name, args)
			default:
				fmt.Fprintf(out, "c.check%s(%s)\n", e.Name, args)
			}
			out.WriteString("}\n")
		}
	}
	if ev || s.needsIn {
		fmt.Fprintf(out, "ev := events.%s{%s}\n", s.Name, strings.Join(lit, ", "))
		out.WriteString(strings.Join(after, ""))
		out.WriteString("return ev\n")
	}
	out.WriteString("}\n\n")
	return nil
}
