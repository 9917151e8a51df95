// Command eventgen writes the code that follows from the event shapes in
// events/event.go: the JSON appenders behind events.Encode and the events'
// V1 methods (events/append_gen.go), and ingestion's strict reader, input shapes and
// per-field checks (internal/ingest/read_gen.go, check_gen.go).
//
// Run it with `go generate ./events` (the //go:generate line is in
// events/event.go). TestGeneratedFilesAreCurrent fails when the committed
// files differ from what it would write now.
//
// # The definition
//
// Each struct in events/event.go is a shape. Its fields, in order, are
// the wire members, named by their json tags (omitempty as encoding/json
// applies it). Two more tags say what JSON cannot:
//
//	api:"v2"     the member exists only in the v2 rendering. On an event
//	             such members must come last (v1 is then a cut of the v2
//	             bytes); inside a nested shape they make the event render
//	             twice when set.
//	check:"…"    how ingestion checks the member, comma-separated:
//	             text (the default for strings), upperid, lowerid, anyid,
//	             ip, email (also an e-mail address), enum=List (a
//	             []string in package events), nonneg, range=LO:HI,
//	             required, ifrequired (required when the object holding
//	             it is), hook=name (a checker method in
//	             internal/ingest/validate.go given the whole input shape,
//	             for rules across members), and "-" (checked by a hook
//	             elsewhere). A time.Time is always an RFC 3339 timestamp
//	             and required.
//
// The events table below names which shapes are events: the feature they
// belong to, their Wire label and the members ingestion makes canonical.
//
// # Adding a shape
//
// To add an event shape (such as the v3 audit event): declare its struct
// in events/event.go with json, api and check tags, and the structs it
// holds; add one row to events below; run `go generate ./events`. If the
// shape is served but never ingested, set its row's Ingest to false. The
// generator supports members of type string, *string, int, int64,
// float64, time.Time, and structs of the same file by value, pointer or
// slice ([]T, rendered null when nil, as encoding/json does); anything
// else is an error naming the member, to be taught here.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// event is one row of the events table.
type event struct {
	Type    string // the struct in events/event.go
	Feature string // its events.Feature constant
	// Label is the Go expression, over e (the event), of its Wire.Label.
	Label string
	// Canonical names the members whose value ingestion replaces with the
	// equal element of their enum list, so that the label kept in a Wire
	// does not hold the whole request body in memory.
	Canonical []string
	// Ingest tells whether ingestion reads and checks the shape.
	Ingest bool
	// AppendOnly marks a shape that is served but never stored (the v3
	// audit event, built from a stored AuditEvent): it gets a public
	// AppendJSON instead of a case in Encode and a V1 method.
	AppendOnly bool
}

var events = []event{
	{Type: "SignInAttempt", Feature: "SignInAttempts", Label: "e.Category", Canonical: []string{"Category"}, Ingest: true},
	{Type: "ItemUsage", Feature: "ItemUsages", Label: "e.Action", Canonical: []string{"Action"}, Ingest: true},
	{Type: "AuditEvent", Feature: "AuditEvents", Label: `e.Action + "/" + e.ObjectType`, Ingest: true},
	{Type: "AuditEventV3", Feature: "AuditEvents", AppendOnly: true},
}

func main() {
	eventsDir := flag.String("events", ".", "the events package `directory`: event.go is read from it and append_gen.go written to it")
	ingestDir := flag.String("ingest", "../internal/ingest", "the ingest package `directory`: read_gen.go and check_gen.go are written to it")
	flag.Parse()
	if err := run(*eventsDir, *ingestDir); err != nil {
		fmt.Fprintln(os.Stderr, "eventgen:", err)
		os.Exit(1)
	}
}

// run generates the files and writes them; on an error it writes none.
func run(eventsDir, ingestDir string) error {
	files, err := generate(eventsDir, ingestDir)
	if err != nil {
		return err
	}
	for path, b := range files {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// generate returns the generated files by path.
func generate(eventsDir, ingestDir string) (map[string][]byte, error) {
	src := filepath.Join(eventsDir, "event.go")
	shapes, err := parseShapes(src)
	if err != nil {
		return nil, err
	}
	g := &gen{shapes: shapes, byName: map[string]*shape{}}
	for _, s := range shapes {
		g.byName[s.Name] = s
	}
	if err := g.prepare(); err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, f := range []struct {
		path string
		body func(*bytes.Buffer) error
	}{
		{filepath.Join(eventsDir, "append_gen.go"), g.appenders},
		{filepath.Join(ingestDir, "read_gen.go"), g.readers},
		{filepath.Join(ingestDir, "check_gen.go"), g.checks},
	} {
		var b bytes.Buffer
		if err := f.body(&b); err != nil {
			return nil, err
		}
		formatted, err := format.Source(b.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s: %v\n%s", f.path, err, b.Bytes())
		}
		out[f.path] = formatted
	}
	return out, nil
}

const header = "// Code generated by internal/eventgen from events/event.go. DO NOT EDIT.\n\n"

// shape is a struct of event.go.
type shape struct {
	Name   string
	Fields []*field
	// Worked out by prepare:
	event   *event
	v2      bool // has api:"v2" members
	errs    bool // its appender can fail (times, floats)
	needsIn bool // ingestion reads it into a shape of its own (times)
	ifReq   bool // its check takes the holder's required
}

type field struct {
	Go        string // Go name
	Type      string // Go type as written: string, *string, int, int64, float64, time.Time, T, *T, []T
	JSON      string
	OmitEmpty bool
	V2        bool
	check     check
}

type check struct {
	kind       string // text, upperid, lowerid, anyid, ip, enum, hook, none, or "" (by type)
	required   bool
	ifRequired bool
	email      bool
	nonneg     bool
	enum       string
	lo, hi     string
	hook       string
}

func parseShapes(path string) ([]*shape, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		return nil, err
	}
	var shapes []*shape
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, sp := range gd.Specs {
			ts := sp.(*ast.TypeSpec)
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			s := &shape{Name: ts.Name.Name}
			for _, fl := range st.Fields.List {
				if len(fl.Names) != 1 || fl.Tag == nil {
					return nil, fmt.Errorf("%s: %s: every member needs its own name and a json tag", fset.Position(fl.Pos()), s.Name)
				}
				fd := &field{Go: fl.Names[0].Name, Type: typeString(fl.Type)}
				tag := reflect.StructTag(strings.Trim(fl.Tag.Value, "`"))
				js, ok := tag.Lookup("json")
				if !ok {
					return nil, fmt.Errorf("%s.%s: no json tag", s.Name, fd.Go)
				}
				name, opts, _ := strings.Cut(js, ",")
				fd.JSON, fd.OmitEmpty = name, opts == "omitempty"
				if opts != "" && opts != "omitempty" {
					return nil, fmt.Errorf("%s.%s: json option %q is not supported", s.Name, fd.Go, opts)
				}
				switch api := tag.Get("api"); api {
				case "":
				case "v2":
					fd.V2 = true
				default:
					return nil, fmt.Errorf("%s.%s: api:%q, want v2", s.Name, fd.Go, api)
				}
				if fd.check, err = parseCheck(tag.Get("check")); err != nil {
					return nil, fmt.Errorf("%s.%s: %v", s.Name, fd.Go, err)
				}
				s.Fields = append(s.Fields, fd)
			}
			shapes = append(shapes, s)
		}
	}
	return shapes, nil
}

func typeString(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.StarExpr:
		return "*" + typeString(t.X)
	case *ast.SelectorExpr:
		return typeString(t.X) + "." + t.Sel.Name
	case *ast.ArrayType:
		if t.Len == nil {
			return "[]" + typeString(t.Elt)
		}
	}
	return fmt.Sprintf("%T", e)
}

func parseCheck(s string) (check, error) {
	var c check
	if s == "" {
		return c, nil
	}
	for _, part := range strings.Split(s, ",") {
		key, val, _ := strings.Cut(part, "=")
		switch key {
		case "text", "upperid", "lowerid", "anyid", "ip":
			c.kind = key
		case "-":
			c.kind = "none"
		case "email":
			c.email = true
		case "nonneg":
			c.nonneg = true
		case "required":
			c.required = true
		case "ifrequired":
			c.ifRequired = true
		case "enum":
			c.kind, c.enum = "enum", val
		case "hook":
			c.kind, c.hook = "hook", val
		case "range":
			lo, hi, ok := strings.Cut(val, ":")
			if !ok {
				return c, fmt.Errorf("check range=%q, want range=LO:HI", val)
			}
			c.lo, c.hi = lo, hi
		default:
			return c, fmt.Errorf("unknown check %q", part)
		}
		if (key == "enum" || key == "hook" || key == "range") && val == "" {
			return c, fmt.Errorf("check %s needs a value", key)
		}
	}
	return c, nil
}

type gen struct {
	shapes []*shape
	byName map[string]*shape
}

// elem returns the shape a member holds, by value, pointer or slice, or
// nil.
func (g *gen) elem(f *field) *shape {
	return g.byName[strings.TrimPrefix(strings.TrimPrefix(f.Type, "*"), "[]")]
}

func (g *gen) prepare() error {
	for i := range events {
		e := &events[i]
		s := g.byName[e.Type]
		if s == nil {
			return fmt.Errorf("events table: no struct %s in event.go", e.Type)
		}
		s.event = e
		for _, name := range e.Canonical {
			if f := s.field(name); f == nil || f.check.kind != "enum" {
				return fmt.Errorf("%s: canonical member %s is not an enum", s.Name, name)
			}
		}
		if len(s.Fields) == 0 || s.Fields[0].JSON != "uuid" || s.Fields[0].Type != "string" {
			return fmt.Errorf("%s: an event's first member must be the string uuid", s.Name)
		}
	}
	// Fixed points over nesting: a shape is v2, errs or needsIn when any
	// shape it holds is.
	for changed := true; changed; {
		changed = false
		for _, s := range g.shapes {
			for _, f := range s.Fields {
				e := g.elem(f)
				set := func(p *bool, v bool) {
					if v && !*p {
						*p, changed = true, true
					}
				}
				set(&s.v2, f.V2)
				set(&s.errs, f.Type == "time.Time" || f.Type == "float64" || (e != nil && e.errs))
				set(&s.needsIn, f.Type == "time.Time" || (e != nil && e.needsIn))
				set(&s.ifReq, f.check.ifRequired)
			}
		}
	}
	for _, s := range g.shapes {
		if len(s.Fields) > 32 {
			return fmt.Errorf("%s: more than 32 members", s.Name)
		}
		lastPlain := -1
		for i, f := range s.Fields {
			switch f.Type {
			case "string", "*string", "int", "int64", "float64", "time.Time":
			default:
				e := g.elem(f)
				if e == nil {
					return fmt.Errorf("%s.%s: type %s is not supported", s.Name, f.Go, f.Type)
				}
				if e.event != nil {
					return fmt.Errorf("%s.%s: an event inside a shape is not supported", s.Name, f.Go)
				}
				if e.v2 && s.event == nil {
					return fmt.Errorf("%s.%s: a shape with v2 members inside a nested shape is not supported", s.Name, f.Go)
				}
				if e.v2 && strings.HasPrefix(f.Type, "[]") {
					return fmt.Errorf("%s.%s: a slice of a shape with v2 members is not supported", s.Name, f.Go)
				}
			}
			if f.Type == "time.Time" && f.OmitEmpty {
				return fmt.Errorf("%s.%s: omitempty never omits a time.Time", s.Name, f.Go)
			}
			if f.V2 && (f.Type != "string" || !f.OmitEmpty) {
				return fmt.Errorf("%s.%s: a v2 member must be an omitempty string", s.Name, f.Go)
			}
			if !f.V2 {
				lastPlain = i
			}
			if f.check.hook != "" && s.event == nil {
				return fmt.Errorf("%s.%s: hooks are for event members", s.Name, f.Go)
			}
		}
		if s.event != nil {
			for i, f := range s.Fields {
				if f.V2 && i < lastPlain {
					return fmt.Errorf("%s.%s: an event's v2 members must come last", s.Name, f.Go)
				}
			}
		}
	}
	return nil
}

func lowerFirst(s string) string {
	// Leading initialisms go down whole: UUID → uuid, IPAddress → ipAddress.
	n := 0
	for n < len(s) && s[n] >= 'A' && s[n] <= 'Z' {
		n++
	}
	switch {
	case n == 0:
		return s
	case n == len(s):
		return strings.ToLower(s)
	case n > 1:
		n--
	}
	return strings.ToLower(s[:n]) + s[n:]
}
