package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// A configuration file sets a command's flags from YAML: one flat mapping
// whose keys are the flag names (listen: 127.0.0.1:8080). It works over a
// flag.FlagSet without knowing its flags, so a flag added to the command is
// a key of its file with no further code. The precedence, highest first:
// the command line, LOGBOOK_* variables, the file, the flag's default.
//
// A command opts in by registering configFile's flags and parsing with
// configFile.parse instead of parseFlags (forward keeps its own --config,
// which is a different format).

//go:generate env LOGBOOK_UPDATE_DOCS=1 go test -count=1 -run ^TestConfigurationDoc$ .

// configFile is --config and --print-config of a command.
type configFile struct {
	path  string
	print bool
	// sources says where each flag's value came from once parse returns:
	// "flag", "env LOGBOOK_…", "file PATH:LINE" or "default".
	sources map[string]string
}

// Names of the flags configFile adds; a file may set neither.
const (
	configFlag      = "config"
	printConfigFlag = "print-config"
)

// register adds --config and --print-config to fs.
func (c *configFile) register(fs *flag.FlagSet) {
	fs.StringVar(&c.path, configFlag, "", "read flags from this YAML `file`: one key per flag, named as the flag without dashes (listen: 127.0.0.1:8080); "+
		"command-line flags and LOGBOOK_* variables override it; unknown keys, keys given twice and values a flag would refuse are errors naming the file and line; "+
		"relative paths in it are relative to the working directory, as on the command line; warns when every user may read it and it holds a secret (see docs/configuration.md)")
	fs.BoolVar(&c.print, printConfigFlag, false, "print the effective configuration as YAML that --config reads, every key with a comment saying where its value came from "+
		"(flag, env LOGBOOK_…, file or default; a deprecated flag nothing set as a comment), passwords in URLs and secret values redacted, then exit without opening the store or listening")
}

// errInspected is what parse returns to an Env.inspectFlags caller.
var errInspected = errors.New("flag set inspected")

// parse is parseFlags, then the configuration file (--config or
// LOGBOOK_CONFIG) for every flag neither the command line nor a variable
// set. A value in the file that a flag or variable overrides is still
// checked, where that can be done without side effects. The file's
// problems are one *UsageError, a line each: "FILE:LINE: reason".
func (c *configFile) parse(fs *flag.FlagSet, env Env, args []string) error {
	if env.inspectFlags != nil {
		env.inspectFlags(fs)
		return errInspected
	}
	if env.fromEnv == nil {
		env.fromEnv = &map[string]string{}
	}
	if err := parseFlags(fs, env, args, false); err != nil {
		return err
	}
	c.sources = map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { c.sources[f.Name] = "default" })
	fs.Visit(func(f *flag.Flag) { c.sources[f.Name] = "flag" })
	for name, key := range *env.fromEnv {
		if fs.Lookup(name) != nil {
			c.sources[name] = "env " + key
		}
	}
	if c.path == "" {
		return nil
	}
	data, mode, err := readConfigFile(c.path)
	if err != nil {
		return usagef("--%s: %v", configFlag, err)
	}
	if err := c.apply(fs, data, *env.fromEnv); err != nil {
		return err
	}
	if mode&0o004 == 0 {
		return nil
	}
	var secret []string
	fs.VisitAll(func(f *flag.Flag) {
		if v := f.Value.String(); strings.HasPrefix(c.sources[f.Name], "file ") && redactValue(f, v) != v {
			secret = append(secret, f.Name)
		}
	})
	if len(secret) > 0 {
		fmt.Fprintf(env.Stderr, "logbook: warning: %s holds a secret (%s) and every user can read it: chmod o-r %s, or move the secret to a LOGBOOK_* variable\n",
			c.path, strings.Join(secret, ", "), c.path)
	}
	return nil
}

// readConfigFile returns the text of the file at path and its permissions.
func readConfigFile(path string) ([]byte, os.FileMode, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if fi.IsDir() {
		return nil, 0, fmt.Errorf("%s is a directory", path)
	}
	data, err := io.ReadAll(f)
	return data, fi.Mode().Perm(), err
}

// apply sets the flags of fs that data, the text of the file c.path, sets
// and c.sources says nothing else set, recording each in fromEnv as
// "FILE:LINE: name" (see Env.fromEnv).
func (c *configFile) apply(fs *flag.FlagSet, data []byte, fromEnv map[string]string) error {
	entries, errs := parseConfigFile(c.path, data)
	for _, e := range entries {
		f := fs.Lookup(e.key)
		switch {
		case e.key == configFlag || e.key == printConfigFlag:
			errs.add(c.path, e.line, "%s: cannot be set in a configuration file", e.key)
			continue
		case f == nil:
			errs.add(c.path, e.line, "unknown key %q%s", e.key, suggestKey(fs, e.key))
			continue
		}
		overridden := c.sources[e.key] != "default"
		if err := setFromFile(f, e, overridden); err != nil {
			errs.add(c.path, e.line, "%s: %v", showKey(e.key), err)
			continue
		}
		if !overridden {
			where := fmt.Sprintf("%s:%d", c.path, e.line)
			c.sources[e.key] = "file " + where
			// inCommand names where a value came from when a later
			// check of the flag refuses it.
			fromEnv[e.key] = where + ": " + e.key
		}
	}
	if len(errs) > 0 {
		return &UsageError{Msg: errs.Error()}
	}
	return nil
}

// configEntry is one key of a configuration file and its scalar value.
type configEntry struct {
	key   string
	value string
	// isBool: the value is a YAML boolean (true, false, True, …).
	isBool bool
	line   int
}

// configErrors are the problems of a configuration file.
type configErrors []configProblem

// configProblem is one problem: its line and "FILE:LINE: reason".
type configProblem struct {
	line int
	text string
}

func (e *configErrors) add(file string, line int, format string, args ...any) {
	*e = append(*e, configProblem{line, fmt.Sprintf("%s:%d: %s", file, line, fmt.Sprintf(format, args...))})
}

// maxConfigProblems is how many problems of a file are listed.
const maxConfigProblems = 20

// Error lists the problems one a line, in the order of their lines, the
// first maxConfigProblems of them.
func (e configErrors) Error() string {
	ps := append(configErrors(nil), e...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].line < ps[j].line })
	var lines []string
	for i, p := range ps {
		if i == maxConfigProblems {
			lines = append(lines, fmt.Sprintf("(and %d more problems)", len(ps)-i))
			break
		}
		lines = append(lines, p.text)
	}
	return strings.Join(lines, "\n")
}

var flagNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// showKey writes a key as is when it looks like a flag name, quoted
// otherwise.
func showKey(k string) string {
	if flagNameRE.MatchString(k) {
		return k
	}
	return strconv.Quote(k)
}

// parseConfigFile reads a configuration file's text: empty, or a single
// YAML document holding one mapping of keys to scalar values, each key
// once. It does not know which keys exist; the caller checks them. It
// returns the entries it could read and the problems it found: a file
// with a problem sets nothing.
func parseConfigFile(name string, data []byte) ([]configEntry, configErrors) {
	var errs configErrors
	if line, msg := scanText(data); msg != "" {
		errs.add(name, line, "%s", msg)
		return nil, errs
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := decodeNode(dec, &doc); err != nil {
		if err == io.EOF {
			return nil, nil
		}
		line, msg := yamlErrorLine(err, data)
		errs.add(name, line, "%s", msg)
		return nil, errs
	}
	var next yaml.Node
	switch err := decodeNode(dec, &next); {
	case err == nil:
		errs.add(name, min(next.Line, lastLine(data)), "a second YAML document: the file holds one mapping of flag names to values")
		return nil, errs
	case err != io.EOF:
		line, msg := yamlErrorLine(err, data)
		errs.add(name, line, "%s", msg)
		return nil, errs
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, nil // "---" or "~" alone: nothing set
	}
	if root.Kind != yaml.MappingNode {
		errs.add(name, min(root.Line, lastLine(data)), "want a mapping of flag names to values, such as \"listen: 127.0.0.1:8080\", not %s", describeNode(root))
		return nil, errs
	}
	last := lastLine(data)
	var entries []configEntry
	first := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			errs.add(name, k.Line, "a key must be a flag name, not %s", describeNode(k))
			continue
		}
		if line, dup := first[k.Value]; dup {
			errs.add(name, k.Line, "key %q given twice (first on line %d)", k.Value, line)
			continue
		}
		first[k.Value] = k.Line
		vline := v.Line // a value missing at the end is placed past the text
		if vline < k.Line || vline > last {
			vline = k.Line
		}
		switch {
		case v.Kind != yaml.ScalarNode:
			errs.add(name, vline, "%s: want a single value, not %s", showKey(k.Value), describeNode(v))
			continue
		case v.ShortTag() == "!!null" && v.Style == 0:
			errs.add(name, vline, "%s: no value (write \"\" for an empty one, or leave the key out)", showKey(k.Value))
			continue
		}
		entries = append(entries, configEntry{key: k.Value, value: v.Value, isBool: v.ShortTag() == "!!bool", line: k.Line})
	}
	return entries, errs
}

// decodeNode decodes the next document, turning a panic in the YAML
// library into an error so that no input can crash the command.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias (*" + n.Value + ")"
	case yaml.DocumentNode:
		return "a document"
	}
	if n.ShortTag() == "!!null" {
		return "an empty value"
	}
	return fmt.Sprintf("the value %q", n.Value)
}

// scanText finds what the YAML reader refuses without saying where:
// UTF-16, bytes that are not UTF-8 and control characters. It returns the
// line and the reason, or "" when the text is fine. Lines are counted as
// YAML counts them (\n, \r\n, \r, U+0085, U+2028, U+2029).
func scanText(data []byte) (int, string) {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return 1, "the file is UTF-16; save it as UTF-8"
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	line := 1
	for i := 0; i < len(data); {
		r, w := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && w <= 1:
			return line, "the file is not UTF-8 text"
		case r == '\r':
			if i+1 >= len(data) || data[i+1] != '\n' {
				line++
			}
		case r == '\n', r == 0x85, r == 0x2028, r == 0x2029:
			line++
		case r == '\t', r >= 0x20 && r <= 0x7E, r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000:
		default:
			return line, fmt.Sprintf("control character %U is not allowed", r)
		}
		i += w
	}
	return 0, ""
}

var (
	yamlLineRE   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlAnchorRE = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// yamlErrorLine turns an error of the YAML parser into a line and a
// reason. The library names no line for a problem on the first line, and
// names its parser's problems (not its scanner's) with a line counted
// from zero; both are corrected here.
func yamlErrorLine(err error, data []byte) (int, string) {
	msg := err.Error()
	if m := yamlAnchorRE.FindStringSubmatch(msg); m != nil {
		return lineOfText(data, "*"+m[1]), "unknown anchor " + strconv.Quote(m[1])
	}
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if line == 0 || isParserProblem(msg) {
		line++ // 0 is "no line": the first
	}
	// A problem at the end of the text is placed past its last line.
	return min(line, lastLine(data)), msg
}

// lastLine is the number of the last line of data holding anything, as
// YAML counts lines (at least 1).
func lastLine(data []byte) int {
	line, last := 1, 1
	for i := 0; i < len(data); {
		r, w := utf8.DecodeRune(data[i:])
		i += w
		switch {
		case r == '\r' && i < len(data) && data[i] == '\n':
			// counted at the \n
		case r == '\n', r == '\r', r == 0x85, r == 0x2028, r == 0x2029:
			line++
		default:
			last = line
		}
	}
	return last
}

// parserProblems are the YAML parser's own problems (parserc.go), whose
// lines the library counts from zero; its scanner's, some worded alike,
// count from one.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected key":              true,
	"did not find expected '-' indicator":    true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found duplicate %TAG directive":         true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

func isParserProblem(msg string) bool { return parserProblems[msg] }

// lineOfText is the line on which s first occurs in data (1 if nowhere).
func lineOfText(data []byte, s string) int {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 1
	}
	return 1 + bytes.Count(data[:i], []byte("\n"))
}

// setFromFile sets f to the entry's value, checking that it is of the
// flag's kind: a YAML boolean for a boolean flag, and no boolean for any
// other. When the flag was set by a flag or variable (overridden), the
// value is only checked, on a copy of the flag's value, and only when
// that copy cannot share state with the flag; otherwise it is left alone.
func setFromFile(f *flag.Flag, e configEntry, overridden bool) error {
	isBool := false
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		isBool = true
	}
	switch {
	case isBool && !e.isBool:
		return fmt.Errorf("%q is not a boolean (want true or false)", e.value)
	case !isBool && e.isBool:
		return fmt.Errorf("%s is a boolean; want %s", e.value, flagArg(f))
	}
	v := f.Value
	if overridden {
		if v = copyValue(f.Value); v == nil {
			return nil
		}
	}
	if err := v.Set(e.value); err != nil {
		return fmt.Errorf("invalid value %q: %s", e.value, setError(f, err))
	}
	return nil
}

// flagArg names what a flag takes, with an article: "an address".
func flagArg(f *flag.Flag) string {
	arg, _ := flag.UnquoteUsage(f)
	switch arg {
	case "", "value":
		return "a value"
	case "int", "uint":
		return "a whole number"
	case "float":
		return "a number"
	case "duration":
		return "a duration such as 30s, 5m or 1h30m"
	}
	if strings.ContainsRune("aeio", rune(arg[0])) {
		return "an " + arg
	}
	return "a " + arg
}

// setError says why a flag refused a value; the flag package's own
// reasons ("parse error") do not say what was wanted.
func setError(f *flag.Flag, err error) string {
	if err.Error() != "parse error" {
		return err.Error()
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return err.Error()
	}
	switch g.Get().(type) {
	case int, int64:
		return "want a whole number"
	case uint, uint64:
		return "want a whole number, not negative"
	case float64:
		return "want a number"
	case time.Duration:
		return "want a duration such as 30s, 5m or 1h30m"
	case bool:
		return "want true or false"
	}
	return err.Error()
}

// copyValue returns a copy of v to try a value on, or nil when a copy
// could share state with v (pointers, slices, maps, functions).
func copyValue(v flag.Value) flag.Value {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || !plainData(rv.Elem().Type()) {
		return nil
	}
	cp := reflect.New(rv.Elem().Type())
	cp.Elem().Set(rv.Elem())
	c, _ := cp.Interface().(flag.Value)
	return c
}

func plainData(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.String:
		return true
	case reflect.Array:
		return plainData(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !plainData(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

// suggestKey returns ` (did you mean "x"?)` for the flag of fs closest to
// key, or "" when none is close.
func suggestKey(fs *flag.FlagSet, key string) string {
	norm := strings.ToLower(strings.ReplaceAll(strings.TrimLeft(key, "-"), "_", "-"))
	best, bestD := "", 0
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == configFlag || f.Name == printConfigFlag {
			return
		}
		d := editDistance(norm, f.Name)
		if best == "" || d < bestD {
			best, bestD = f.Name, d
		}
	})
	if best == "" || bestD > max(1, len(best)/3) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// write prints the effective configuration of fs as YAML that --config
// reads: every flag but --config and --print-config, in name order, each
// with a comment saying where its value came from. Secrets are redacted
// (see redactValue). A deprecated flag (its help starts "deprecated") is
// written only when something set it, as a comment otherwise, so that the
// printed file read back does not turn on its deprecation.
func (c *configFile) write(w io.Writer, fs *flag.FlagSet, cmd string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# The effective configuration of logbook %s, as --config reads it.\n", cmd)
	switch src := c.sources[configFlag]; {
	case c.path == "":
		b.WriteString("# Configuration file: none.\n")
	case src == "flag":
		fmt.Fprintf(&b, "# Configuration file: %s (--config).\n", c.path)
	default:
		fmt.Fprintf(&b, "# Configuration file: %s (%s).\n", c.path, src)
	}
	b.WriteString("# After each value, where it came from: flag, env LOGBOOK_…, file or default.\n")
	b.WriteString("# Passwords and secret values are redacted (xxxxx).\n")
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == configFlag || f.Name == printConfigFlag {
			return
		}
		src := c.sources[f.Name]
		if src == "" {
			src = "default"
		}
		line := f.Name + ": " + yamlValue(f, redactValue(f, f.Value.String()))
		if src == "default" && deprecated(f) {
			fmt.Fprintf(&b, "# %s  # default; deprecated, so not set here\n", line)
			return
		}
		fmt.Fprintf(&b, "%s  # %s\n", line, src)
	})
	_, err := io.WriteString(w, b.String())
	return err
}

func deprecated(f *flag.Flag) bool {
	return strings.HasPrefix(strings.ToLower(f.Usage), "deprecated")
}

// yamlValue writes s, the value of f, as a YAML scalar that reads back as
// the same text: booleans and numbers bare, strings quoted when YAML
// would otherwise read them as something else.
func yamlValue(f *flag.Flag, s string) string {
	if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case bool, int, int64, uint, uint64, float64:
			return s
		}
	}
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	out, err := yaml.Marshal(n)
	text := strings.TrimSuffix(string(out), "\n")
	if err != nil || strings.Contains(text, "\n") || strings.HasPrefix(text, "|") || strings.HasPrefix(text, ">") {
		return strconv.Quote(s) // a YAML double-quoted string
	}
	return text
}

// redacted replaces a secret in --print-config's output.
const redacted = "xxxxx"

// secretValue is a flag.Value whose value is a secret: --print-config
// shows it redacted whatever the flag is called.
type secretValue interface {
	flag.Value
	Secret() bool
}

var (
	secretNameRE  = regexp.MustCompile(`(?i)(password|passwd|secret|token|(^|-)key$)`)
	secretParamRE = regexp.MustCompile(`(?i)\b([a-z0-9_.-]*(?:pass|pwd|secret|token)[a-z0-9_.-]*)=([^\s&;]+)`)
)

// redactValue hides what may be a secret in the value s of f: all of it
// for a secretValue or a flag named after a secret (--…-password,
// --…-token, --…-key), unless the flag names where a secret is (its
// argument is a file, directory or path, or its name ends in -file, -dir
// or -env: --tls-key file); otherwise the password of a URL
// (postgres://user:xxxxx@host) and any password=, secret= or token=
// parameter.
func redactValue(f *flag.Flag, s string) string {
	if s == "" {
		return s
	}
	if sv, ok := f.Value.(secretValue); ok && sv.Secret() {
		return redacted
	}
	if secretNameRE.MatchString(f.Name) && !namesPlace(f) {
		return redacted
	}
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		// The last @ ends the user information: a password may hold an
		// unescaped @ (a query holding one hides more than it needs to,
		// which is the safe way to be wrong).
		if i := strings.LastIndexByte(rest, '@'); i >= 0 {
			if user, _, hasPass := strings.Cut(rest[:i], ":"); hasPass {
				s = scheme + "://" + user + ":" + redacted + rest[i:]
			}
		}
	}
	return secretParamRE.ReplaceAllString(s, "${1}="+redacted)
}

// namesPlace reports whether f's value says where something is rather
// than being it: a file, directory or path, or a variable's name.
func namesPlace(f *flag.Flag) bool {
	for _, suffix := range []string{"-file", "-dir", "-env", "-path"} {
		if strings.HasSuffix(f.Name, suffix) {
			return true
		}
	}
	switch arg, _ := flag.UnquoteUsage(f); arg {
	case "file", "directory", "dir", "path":
		return true
	}
	return false
}
