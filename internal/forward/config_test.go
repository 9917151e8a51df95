package forward

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSpoolMaxSizeOverflow: a size past what an int64 holds is refused
// with the option's name, never wrapped around to 0 (no limit) or a
// negative number.
func TestSpoolMaxSizeOverflow(t *testing.T) {
	for _, size := range []string{"17179869184GiB", "9223372036854775807k", "8388608TiB"} {
		t.Run(size, func(t *testing.T) {
			doc := "state_dir: ./s\nspool_max_size: " + size + "\nsources:\n  - name: a\n    token_env: T\nsinks:\n  - name: f\n    type: file\n"
			types := map[string]NewSinkFunc{"file": func(SinkConfig) (Sink, error) { return nil, nil }}
			cfg, err := ParseConfig([]byte(doc), "/etc/logbook", types, func(string) string { return "tok" })
			if err == nil {
				t.Fatalf("ParseConfig accepted spool_max_size %s (SpoolMaxBytes %d)", size, cfg.SpoolMaxBytes)
			}
			if want := "spool_max_size: \"" + size + "\": too large"; !strings.Contains(err.Error(), want) {
				t.Errorf("error = %v, want one containing %q", err, want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "512": 512, "512k": 512 << 10, "100MiB": 100 << 20, "1GB": 1 << 30, " 2 TiB ": 2 << 40, "3g": 3 << 30,
		"9223372036854775807": 1<<63 - 1, "8388607TiB": 8388607 << 40,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"": "want a number", "-1": "want a number", "MiB": "want a number", "1.5GiB": "want a number",
		"10XB":        `unknown unit "XB"`,
		"16777216TiB": "too large", "8388608TiB": "too large", "9223372036854775808": "too large", "99999999999999999999k": "too large",
	} {
		if _, err := ParseSize(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSize(%q) error = %v, want one containing %q", in, err, want)
		}
	}
}

// TestConfigErrorSorted: problems come out sorted by field path, list
// indexes in numeric order, problems of one path in their own order.
func TestConfigErrorSorted(t *testing.T) {
	e := &ConfigError{Errs: []error{
		errors.New("sources[10].url: b"), errors.New("sources[2]: token_file: x"), errors.New("sinks[1].type: t"),
		errors.New("sources[2].limit: first"), errors.New("sources[2].limit: second"), errors.New("poll_interval: p"), errors.New("sinks[0].path: required"),
	}}
	want := "config:\n  poll_interval: p\n  sinks[0].path: required\n  sinks[1].type: t\n  sources[2]: token_file: x\n" +
		"  sources[2].limit: first\n  sources[2].limit: second\n  sources[10].url: b"
	if got := e.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
}

// TestSinkOptionsInline: the keys of a struct a sink's Options embed with
// `yaml:",inline"` (HTTPOptions) are options of the sink, as the YAML
// decoder and the sinks' tests take them; other keys stay unknown.
func TestSinkOptionsInline(t *testing.T) {
	type options struct {
		URL         string `yaml:"url"`
		HTTPOptions `yaml:",inline"`
	}
	var got options
	types := map[string]NewSinkFunc{"http": func(cfg SinkConfig) (Sink, error) { return nil, cfg.Decode(&got) }}
	parse := func(sink string) error {
		doc := "state_dir: ./s\nsources:\n  - name: a\n    token_env: T\nsinks:\n  - name: h\n    type: http\n" + sink
		cfg, err := ParseConfig([]byte(doc), "/etc/logbook", types, func(string) string { return "tok" })
		if err != nil {
			return err
		}
		_, err = cfg.Sinks[0].New(cfg.Sinks[0].Config)
		return err
	}
	if err := parse("    url: https://x\n    timeout: 5s\n    ca_file: ca.pem\n    insecure_skip_verify: true\n"); err != nil {
		t.Fatalf("inline options refused: %v", err)
	}
	want := options{URL: "https://x", HTTPOptions: HTTPOptions{Timeout: 5 * time.Second, CAFile: "ca.pem", InsecureSkipVerify: true}}
	if got != want {
		t.Errorf("decoded %+v, want %+v", got, want)
	}
	if err := parse("    url: https://x\n    timeouts: 5s\n    httpoptions: {}\n"); err == nil ||
		!strings.Contains(err.Error(), "sinks[0].timeouts: unknown option") || !strings.Contains(err.Error(), "sinks[0].httpoptions: unknown option") {
		t.Errorf("unknown keys: error = %v, want timeouts and httpoptions named", err)
	}
}

// TestAPIVersion: api_version is 1, 2 or 3 (3: audit events from the v3
// beta) or absent; anything else is refused with the option's name.
func TestAPIVersion(t *testing.T) {
	types := map[string]NewSinkFunc{"file": func(SinkConfig) (Sink, error) { return nil, nil }}
	for _, v := range []string{"", "1", "2", "3", "0", "4", "-1"} {
		doc := "state_dir: ./s\nsources:\n  - name: a\n    token_env: T\n"
		if v != "" {
			doc += "    api_version: " + v + "\n"
		}
		doc += "sinks:\n  - name: f\n    type: file\n"
		cfg, err := ParseConfig([]byte(doc), "/etc/logbook", types, func(string) string { return "tok" })
		switch v {
		case "", "0", "1", "2", "3":
			if err != nil {
				t.Errorf("api_version %q: %v", v, err)
			} else if got := cfg.Sources[0].APIVersion; v == "3" && got != 3 {
				t.Errorf("api_version 3 read as %d", got)
			}
		default:
			if err == nil || !strings.Contains(err.Error(), "sources[0].api_version: "+v+": want 1, 2 or 3") {
				t.Errorf("api_version %s: error %v", v, err)
			}
		}
	}
}

// TestVerifyOptions: verify needs tree_keys_file (a JWKS, read and
// parsed) and the v2 renderings; tree_keys_file alone is a mistake.
func TestVerifyOptions(t *testing.T) {
	dir := t.TempDir()
	jwks := `{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`
	if err := os.WriteFile(filepath.Join(dir, "tree.jwks"), []byte(jwks), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.jwks"), []byte(`{"keys":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	types := map[string]NewSinkFunc{"file": func(SinkConfig) (Sink, error) { return nil, nil }}
	parse := func(source string) (*Config, error) {
		doc := "state_dir: ./s\nsources:\n  - name: a\n    token_env: T\n" + source + "sinks:\n  - name: f\n    type: file\n"
		return ParseConfig([]byte(doc), dir, types, func(string) string { return "tok" })
	}
	cfg, err := parse("    verify: true\n    tree_keys_file: tree.jwks\n")
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Sources[0]; !s.Verify || len(s.TreeKeys) != 1 || s.TreeKeys["k1"] == nil {
		t.Fatalf("source = %+v, want verify with key k1", s)
	}
	for source, want := range map[string]string{
		"    verify: true\n": "sources[0].tree_keys_file: required with verify",
		"    verify: true\n    tree_keys_file: nope.jwks\n":                     "sources[0].tree_keys_file: open ",
		"    verify: true\n    tree_keys_file: bad.jwks\n":                      "sources[0].tree_keys_file: tree keys: no key",
		"    tree_keys_file: tree.jwks\n":                                       "sources[0].tree_keys_file: set without verify: true",
		"    verify: true\n    tree_keys_file: tree.jwks\n    api_version: 1\n": "sources[0].api_version: 1: verify checks the /api/v2 renderings",
	} {
		if _, err := parse(source); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error = %v, want one containing %q", source, err, want)
		}
	}
}
