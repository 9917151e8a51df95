package forward

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/logbookhq/logbook/client"
	"github.com/logbookhq/logbook/events"
	"go.yaml.in/yaml/v3"
)

// Config is the forwarder's YAML configuration file.
type Config struct {
	// Dir is the configuration file's directory; relative paths are
	// resolved against it.
	Dir string `yaml:"-"`

	StateDir         string        `yaml:"state_dir"`
	PollInterval     time.Duration `yaml:"poll_interval"`
	Limit            int           `yaml:"limit"`
	SpoolMaxBytes    int64         `yaml:"-"`
	SpoolMaxSize     string        `yaml:"spool_max_size"`
	DeadLetterDir    string        `yaml:"dead_letter_dir"`
	MetricsListen    string        `yaml:"metrics_listen"`
	BackoffInitial   time.Duration `yaml:"backoff_initial"`
	BackoffMax       time.Duration `yaml:"backoff_max"`
	PausedRetry      time.Duration `yaml:"paused_retry"`
	OnceDrainTimeout time.Duration `yaml:"once_drain_timeout"`
	LogLevel         string        `yaml:"log_level"`
	// ProgressInterval is how often a running forwarder logs what it
	// delivered: nil when not set (DefaultProgressInterval), 0 for never.
	ProgressInterval *time.Duration `yaml:"progress_interval"`

	Sources []SourceConfig `yaml:"sources"`
	Sinks   []SinkEntry    `yaml:"-"`
}

// SourceConfig is one entry of "sources".
type SourceConfig struct {
	Name         string        `yaml:"name"`
	URL          string        `yaml:"url"`
	TokenFile    string        `yaml:"token_file"` // resolved against the configuration's directory
	TokenEnv     string        `yaml:"token_env"`
	StartTime    *time.Time    `yaml:"start_time"`
	Features     []string      `yaml:"features"`
	APIVersion   int           `yaml:"api_version"`
	Limit        int           `yaml:"limit"`
	PollInterval time.Duration `yaml:"poll_interval"`
	CAFile       string        `yaml:"ca_file"`
	Proxy        string        `yaml:"proxy"`
	RateLimit    Limits        `yaml:"rate_limit"`
	// Verify checks every page against the source's signed tree heads
	// before delivering it (a Logbook server only, read on /api/v2), with
	// the tree keys' JWKS in TreeKeysFile (`logbook keys tree-public`),
	// resolved against the configuration's directory.
	Verify       bool   `yaml:"verify"`
	TreeKeysFile string `yaml:"tree_keys_file"`

	// Token is read from TokenFile or TokenEnv by LoadConfig; it never
	// appears in errors or logs.
	Token string `yaml:"-"`
	// ParsedFeatures is Features parsed.
	ParsedFeatures []events.Feature `yaml:"-"`
	// TreeKeys is TreeKeysFile read, when Verify is set.
	TreeKeys client.TreeKeys `yaml:"-"`
}

// SinkEntry is one entry of "sinks": its name, type, and its constructor's
// configuration (options still undecoded).
type SinkEntry struct {
	Path   string // "sinks[0]"
	Config SinkConfig
	New    NewSinkFunc
}

// DefaultRetention is how far back a first run starts when the source has
// no start_time: the Events API's 120 days.
const DefaultRetention = 120 * 24 * time.Hour

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// LoadConfig reads and checks the configuration file at path. types maps
// a sink "type" to its constructor. Every problem is reported, each with
// its YAML path ("sources[0].start_time: …"), joined in one error. Secrets
// are read (and must exist) but never printed.
func LoadConfig(path string, types map[string]NewSinkFunc, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(data, filepath.Dir(abs), types, getenv)
}

// ParseConfig is LoadConfig for a document already read; dir resolves
// relative paths.
func ParseConfig(data []byte, dir string, types map[string]NewSinkFunc, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(root.Content) == 0 {
		return nil, errors.New("config: empty document")
	}
	doc := root.Content[0]
	c := &Config{Dir: dir}
	var errs []error
	add := func(path string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	if doc.Kind != yaml.MappingNode {
		return nil, errors.New("config: the document must be a mapping")
	}
	var sinksNode *yaml.Node
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		switch k.Value {
		case "sinks":
			sinksNode = v
		case "sources":
			if v.Kind != yaml.SequenceNode {
				add("sources", "must be a list (line %d)", v.Line)
				continue
			}
			for j, sn := range v.Content {
				p := fmt.Sprintf("sources[%d]", j)
				var sc SourceConfig
				errs = append(errs, decodeStrict(sn, &sc, p)...)
				c.Sources = append(c.Sources, sc)
			}
		default:
			if !knownKey(reflect.TypeOf(*c), k.Value) {
				add(k.Value, "unknown option (line %d)", k.Line)
				continue
			}
			one := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{k, v}}
			if err := one.Decode(c); err != nil {
				add(k.Value, "%s", decodeError(v, err))
			}
		}
	}
	if c.StateDir == "" {
		add("state_dir", "required")
	} else {
		c.StateDir = resolve(dir, c.StateDir)
	}
	c.DeadLetterDir = resolve(dir, c.DeadLetterDir)
	if c.Limit == 0 {
		c.Limit = 1000
	} else if c.Limit < 1 || c.Limit > 1000 {
		add("limit", "%d: must be 1–1000", c.Limit)
	}
	if c.PollInterval == 0 {
		c.PollInterval = 10 * time.Second
	} else if c.PollInterval < 0 {
		add("poll_interval", "must be positive")
	}
	c.SpoolMaxBytes = 1 << 30
	if c.SpoolMaxSize != "" {
		n, err := ParseSize(c.SpoolMaxSize)
		if err != nil {
			add("spool_max_size", "%v", err)
		}
		c.SpoolMaxBytes = n
	}
	if c.ProgressInterval != nil && *c.ProgressInterval < 0 {
		add("progress_interval", "must not be negative (0s turns the reports off)")
	}
	switch strings.ToLower(c.LogLevel) {
	case "", "debug", "info", "warn", "error":
	default:
		add("log_level", "%q: want debug, info, warn or error", c.LogLevel)
	}
	if len(c.Sources) == 0 {
		add("sources", "at least one source is required")
	}
	seen := map[string]bool{}
	for i := range c.Sources {
		s := &c.Sources[i]
		p := fmt.Sprintf("sources[%d]", i)
		switch {
		case s.Name == "":
			add(p+".name", "required")
		case !nameRE.MatchString(s.Name):
			add(p+".name", "%q: use letters, digits, - and _ (it names state files)", s.Name)
		case seen[s.Name]:
			add(p+".name", "%q: used by another source", s.Name)
		}
		seen[s.Name] = true
		s.TokenFile = resolve(dir, s.TokenFile)
		tok, err := ReadSecret("token", s.TokenFile, s.TokenEnv, getenv)
		if err != nil {
			add(p, "%v", err)
		}
		s.Token = tok
		if s.URL != "" && !strings.HasPrefix(s.URL, "http://") && !strings.HasPrefix(s.URL, "https://") {
			add(p+".url", "%q: want http:// or https://", s.URL)
		}
		if s.APIVersion < 0 || s.APIVersion > 3 {
			add(p+".api_version", "%d: want 1, 2 or 3", s.APIVersion)
		}
		if s.Limit == 0 {
			s.Limit = c.Limit
		} else if s.Limit < 1 || s.Limit > 1000 {
			add(p+".limit", "%d: must be 1–1000", s.Limit)
		}
		if s.PollInterval == 0 {
			s.PollInterval = c.PollInterval
		}
		if len(s.Features) > 0 {
			fs, err := events.ParseFeatures(strings.Join(s.Features, ","))
			if err != nil {
				add(p+".features", "%v", err)
			}
			s.ParsedFeatures = fs
		}
		if s.RateLimit.PerMinute < 0 || s.RateLimit.PerHour < 0 {
			add(p+".rate_limit", "must not be negative")
		}
		s.CAFile = resolve(dir, s.CAFile)
		s.TreeKeysFile = resolve(dir, s.TreeKeysFile)
		switch {
		case s.Verify && s.TreeKeysFile == "":
			add(p+".tree_keys_file", "required with verify: the JWKS `logbook keys tree-public` writes on the server")
		case s.Verify:
			jwks, err := os.ReadFile(s.TreeKeysFile)
			if err == nil {
				s.TreeKeys, err = client.ParseTreeKeys(jwks)
			}
			if err != nil {
				add(p+".tree_keys_file", "%v", err)
			}
		case s.TreeKeysFile != "":
			add(p+".tree_keys_file", "set without verify: true")
		}
		if s.Verify && (s.APIVersion == 1 || s.APIVersion == 3) {
			add(p+".api_version", "%d: verify checks the /api/v2 renderings; use 2", s.APIVersion)
		}
	}
	errs = append(errs, c.parseSinks(sinksNode, dir, types, getenv)...)
	if len(errs) > 0 {
		return c, &ConfigError{Errs: errs}
	}
	return c, nil
}

// ConfigError lists every problem of a configuration file.
type ConfigError struct{ Errs []error }

// Error lists the problems one a line, sorted by their field path (the
// text before the first ": "), list indexes in numeric order; problems of
// one path keep their order.
func (e *ConfigError) Error() string {
	lines := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		lines[i] = err.Error()
	}
	slices.SortStableFunc(lines, func(a, b string) int { return comparePaths(fieldPath(a), fieldPath(b)) })
	return "config:\n  " + strings.Join(lines, "\n  ")
}

func fieldPath(line string) string {
	if i := strings.Index(line, ": "); i >= 0 {
		return line[:i]
	}
	return line
}

// comparePaths orders field paths as text, except that runs of digits
// compare as numbers: sources[2] before sources[10].
func comparePaths(a, b string) int {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			i, j := digits(a), digits(b)
			na, nb := strings.TrimLeft(a[:i], "0"), strings.TrimLeft(b[:j], "0")
			if c := cmp.Compare(len(na), len(nb)); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[i:], b[j:]
			continue
		}
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digits(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// Unwrap returns the individual problems.
func (e *ConfigError) Unwrap() []error { return e.Errs }

func (c *Config) parseSinks(n *yaml.Node, dir string, types map[string]NewSinkFunc, getenv func(string) string) []error {
	if n == nil || len(n.Content) == 0 {
		return []error{errors.New("sinks: at least one sink is required")}
	}
	if n.Kind != yaml.SequenceNode {
		return []error{fmt.Errorf("sinks: must be a list (line %d)", n.Line)}
	}
	var errs []error
	seen := map[string]bool{}
	for i, sn := range n.Content {
		p := fmt.Sprintf("sinks[%d]", i)
		if sn.Kind != yaml.MappingNode {
			errs = append(errs, fmt.Errorf("%s: must be a mapping (line %d)", p, sn.Line))
			continue
		}
		var name, typ string
		opts := &yaml.Node{Kind: yaml.MappingNode, Line: sn.Line, Column: sn.Column}
		for j := 0; j+1 < len(sn.Content); j += 2 {
			k, v := sn.Content[j], sn.Content[j+1]
			switch k.Value {
			case "name":
				name = v.Value
			case "type":
				typ = v.Value
			default:
				opts.Content = append(opts.Content, k, v)
			}
		}
		switch {
		case name == "":
			errs = append(errs, fmt.Errorf("%s.name: required", p))
		case !nameRE.MatchString(name):
			errs = append(errs, fmt.Errorf("%s.name: %q: use letters, digits, - and _", p, name))
		case seen[name]:
			errs = append(errs, fmt.Errorf("%s.name: %q: used by another sink", p, name))
		}
		seen[name] = true
		newSink, ok := types[typ]
		if !ok {
			var known []string
			for t := range types {
				known = append(known, t)
			}
			slices.Sort(known)
			errs = append(errs, fmt.Errorf("%s.type: %q: want one of %s", p, typ, strings.Join(known, ", ")))
			continue
		}
		path := p
		c.Sinks = append(c.Sinks, SinkEntry{Path: p, New: newSink, Config: SinkConfig{
			Name: name, Type: typ, Dir: dir, Getenv: getenv,
			Decode: func(v any) error {
				if errs := decodeStrict(opts, v, path); len(errs) > 0 {
					return &ConfigError{Errs: errs}
				}
				return nil
			},
		}})
	}
	return errs
}

// decodeStrict decodes a mapping into the struct v points to and reports
// keys v has no field for, each with its path.
func decodeStrict(n *yaml.Node, v any, path string) []error {
	if n.Kind != yaml.MappingNode {
		return []error{fmt.Errorf("%s: must be a mapping (line %d)", path, n.Line)}
	}
	var errs []error
	t := reflect.TypeOf(v).Elem()
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !knownKey(t, k.Value) {
			errs = append(errs, fmt.Errorf("%s.%s: unknown option (line %d)", path, k.Value, k.Line))
			continue
		}
		one := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{k, val}}
		if err := one.Decode(v); err != nil {
			errs = append(errs, fmt.Errorf("%s.%s: %s", path, k.Value, decodeError(val, err)))
		}
	}
	return errs
}

func knownKey(t reflect.Type, key string) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, flags, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "-" {
			continue
		}
		if slices.Contains(strings.Split(flags, ","), "inline") {
			// The embedded struct's keys are the options (HTTPOptions).
			if knownKey(f.Type, key) {
				return true
			}
			continue
		}
		if tag == "" {
			tag = strings.ToLower(f.Name)
		}
		if tag == key {
			return true
		}
	}
	return false
}

// decodeError words the error of decoding the value v: durations and
// times say what they want, other errors are the YAML library's.
func decodeError(v *yaml.Node, err error) string {
	msg := err.Error()
	switch {
	case v.Kind == yaml.ScalarNode && strings.Contains(msg, "time.Duration"):
		return fmt.Sprintf("%q: want a duration such as 10s or 5m", v.Value)
	case v.Kind == yaml.ScalarNode && (strings.Contains(msg, "parsing time") || strings.Contains(msg, "time.Time")):
		return fmt.Sprintf("%q: want an RFC 3339 time such as 2025-01-01T00:00:00Z", v.Value)
	}
	return cleanYAMLError(err)
}

func cleanYAMLError(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n")
	s = strings.TrimSpace(strings.ReplaceAll(s, "\n ", ";"))
	return s
}

func resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// OpenSinks builds every configured sink. Constructor errors are reported
// with the sink's YAML path; on error the sinks built so far are closed.
func (c *Config) OpenSinks(logger func(name string) *slog.Logger) ([]Sink, error) {
	var sinks []Sink
	var errs []error
	for _, e := range c.Sinks {
		cfg := e.Config
		cfg.Logger = slog.New(slog.DiscardHandler)
		if logger != nil {
			cfg.Logger = logger(cfg.Name)
		}
		s, err := e.New(cfg)
		if err != nil {
			errs = append(errs, prefixErrors(e.Path, err)...)
			continue
		}
		sinks = append(sinks, s)
	}
	if len(errs) > 0 {
		for _, s := range sinks {
			s.Close()
		}
		return nil, &ConfigError{Errs: errs}
	}
	return sinks, nil
}

func prefixErrors(path string, err error) []error {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return ce.Errs
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, prefixErrors(path, e)...)
		}
		return out
	}
	return []error{fmt.Errorf("%s.%w", path, err)}
}

// LockState takes an exclusive lock on the state directory so that two
// forwarders (or a forwarder and "cursor rewind") never share it.
func LockState(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("state directory %s is in use by another forwarder", dir)
	}
	return func() { f.Close() }, nil
}
