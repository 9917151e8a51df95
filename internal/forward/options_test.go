package forward

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOptionErrors(t *testing.T) {
	var errs OptionErrors
	if err := errs.Err(); err != nil {
		t.Fatalf("Err of no problems = %v, want nil", err)
	}
	errs.Add(nil)
	errs.Addf("url: required")
	errs.Add(errors.New("ca_file: no such file"))
	errs.Addf("indexes: unknown feature %q", "logins")
	want := "url: required\nca_file: no such file\nindexes: unknown feature \"logins\""
	if err := errs.Err(); err == nil || err.Error() != want {
		t.Errorf("Err = %v, want %q", err, want)
	}
}

func TestNonNegative(t *testing.T) {
	var errs OptionErrors
	zero, set, neg := time.Duration(0), 5*time.Second, -1
	NonNegative(&errs, "timeout", &zero, 30*time.Second)
	NonNegative(&errs, "ack_timeout", &set, 30*time.Second)
	NonNegative(&errs, "max_events", &neg, 500)
	if zero != 30*time.Second || set != 5*time.Second || neg != -1 {
		t.Errorf("values = %v, %v, %v; want the default, the set value and the negative one untouched", zero, set, neg)
	}
	if err := errs.Err(); err == nil || err.Error() != "max_events: must not be negative" {
		t.Errorf("Err = %v, want only max_events named", err)
	}
}

func TestOptionalSecret(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tok"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := SinkConfig{Dir: dir, Getenv: func(k string) string { return map[string]string{"TOK": "from-env"}[k] }}
	tests := []struct {
		name, file, env string
		want, wantErr   string
	}{
		{name: "neither", want: ""},
		{name: "file", file: "tok", want: "s3cret"},
		{name: "env", env: "TOK", want: "from-env"},
		{name: "both", file: "tok", env: "TOK", wantErr: "token_file, token_env: give only one of them"},
		{name: "unset env", env: "NOPE", wantErr: "token_env: environment variable NOPE is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cfg.OptionalSecret("token", tt.file, tt.env)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("OptionalSecret = %q, %v; want error %q", got, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "from-env") {
					t.Errorf("error %q contains the secret", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("OptionalSecret = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestAppendOneLine(t *testing.T) {
	tests := []struct {
		name, dst, doc, want string
	}{
		{"one line kept as sent", "x ", `{"a": 1, "b":[1, 2]}`, `x {"a": 1, "b":[1, 2]}`},
		{"surrounding space trimmed", "", " {\"a\":1}\n", `{"a":1}`},
		{"indented compacted", "<", "{\n  \"a\": 1,\n  \"b\": \"x y\"\n}\n", `<{"a":1,"b":"x y"}`},
		{"invalid kept", "", "{\n  \"a\": \n", "{\n  \"a\":"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendOneLine([]byte(tt.dst), []byte(tt.doc))); got != tt.want {
				t.Errorf("AppendOneLine = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHTTPOptionsClient(t *testing.T) {
	var errs OptionErrors
	o := HTTPOptions{}
	c := o.Client(&errs, 30*time.Second)
	if err := errs.Err(); err != nil || c == nil || c.Timeout != 30*time.Second || o.Timeout != 30*time.Second {
		t.Fatalf("Client of empty options = %v, %v; want a client with the default timeout", c, err)
	}
	o = HTTPOptions{Timeout: -time.Second, CAFile: filepath.Join(t.TempDir(), "nope.pem")}
	if c := o.Client(&errs, 30*time.Second); c != nil {
		t.Errorf("Client with a missing ca_file = %v, want nil", c)
	}
	err := errs.Err()
	for _, want := range []string{"timeout: must not be negative", "ca_file: "} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Err = %v, want one naming %q", err, want)
		}
	}
}

func TestRequestBody(t *testing.T) {
	for _, gz := range []bool{false, true} {
		b := NewRequestBody(gz)
		for _, p := range []string{`{"a":1}`, "\n", `{"b":2}`} {
			if _, err := b.Write([]byte(p)); err != nil {
				t.Fatal(err)
			}
		}
		if b.Gzip() != gz {
			t.Errorf("Gzip = %v, want %v", b.Gzip(), gz)
		}
		body, err := b.Finish()
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = body
		if gz {
			if r, err = gzip.NewReader(body); err != nil {
				t.Fatalf("gzip body: %v", err)
			}
		}
		got, err := io.ReadAll(r)
		if want := "{\"a\":1}\n{\"b\":2}"; err != nil || string(got) != want {
			t.Errorf("gzip=%v: body = %q, %v; want %q", gz, got, err, want)
		}
	}
}

func TestIsHTTPURL(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://es.example.com:9200": true,
		"http://127.0.0.1:8088/x":     true,
		"":                            false,
		"es.example.com:9200":         false,
		"ftp://x":                     false,
		"https://":                    false,
		"http://[::1":                 false,
	} {
		if got := IsHTTPURL(raw); got != want {
			t.Errorf("IsHTTPURL(%q) = %v, want %v", raw, got, want)
		}
	}
}

type namedSink string

func (s namedSink) Name() string                       { return string(s) }
func (s namedSink) Write(context.Context, Batch) error { return nil }
func (s namedSink) Close() error                       { return nil }

func TestBuildSink(t *testing.T) {
	cfg := SinkConfig{Name: "s", Dir: "/etc/logbook", Decode: func(v any) error {
		v.(*struct{ Path string }).Path = "out.ndjson"
		return nil
	}}
	build := func(problem, refuse bool) func(o struct{ Path string }, errs *OptionErrors) (namedSink, error) {
		return func(o struct{ Path string }, errs *OptionErrors) (namedSink, error) {
			if problem {
				errs.Addf("token_env: environment variable X is not set")
			}
			if refuse {
				return "", errors.New("url: required")
			}
			return namedSink(cfg.Path(o.Path)), nil
		}
	}
	s, err := BuildSink(cfg, build(false, false))
	if err != nil || s.Name() != "/etc/logbook/out.ndjson" {
		t.Fatalf("BuildSink = %v, %v; want the sink of the decoded options", s, err)
	}
	for _, tt := range []struct {
		problem, refuse bool
		want            string
	}{
		{true, false, "token_env: environment variable X is not set"},
		{false, true, "url: required"},
		{true, true, "token_env: environment variable X is not set\nurl: required"},
	} {
		if s, err := BuildSink(cfg, build(tt.problem, tt.refuse)); s != nil || err == nil || err.Error() != tt.want {
			t.Errorf("BuildSink = %v, %v; want nil and %q", s, err, tt.want)
		}
	}
	cfg.Decode = func(any) error { return errors.New("url_x: unknown key") }
	if s, err := BuildSink(cfg, build(false, false)); s != nil || err == nil || err.Error() != "url_x: unknown key" {
		t.Errorf("BuildSink with a decode error = %v, %v", s, err)
	}
}
