package forward

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// NewSinkFunc builds a sink from its configuration. Every sink package
// exports one, named New; internal/cli maps the "type" key to it.
type NewSinkFunc func(cfg SinkConfig) (Sink, error)

// SinkConfig is what a sink constructor gets from the configuration file.
type SinkConfig struct {
	// Name is the sink's configured name (unique among sinks).
	Name string
	// Type is the configured type, such as "file" or "splunk_hec".
	Type string
	// Decode decodes the sink's options (its YAML mapping without "name"
	// and "type") into v, a pointer to a struct with yaml tags. Unknown
	// keys are errors that name the key.
	Decode func(v any) error
	// Dir is the directory relative paths are resolved against: the
	// configuration file's directory.
	Dir string
	// Getenv reads the environment; tests pass their own.
	Getenv func(string) string
	// Logger is the sink's logger, already labelled with the sink's name.
	Logger *slog.Logger
}

// Path resolves a path option against the configuration file's directory.
// An empty path stays empty.
func (c SinkConfig) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || c.Dir == "" {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// Secret reads a secret given either as a file (fileOpt, a path, trailing
// whitespace trimmed) or as an environment variable (envOpt, its name).
// key names the option pair in errors ("token" for token_file/token_env).
// Exactly one of the two must be set. The secret's value never appears in
// an error.
func (c SinkConfig) Secret(key, fileOpt, envOpt string) (string, error) {
	return ReadSecret(key, c.Path(fileOpt), envOpt, c.Getenv)
}

// ReadSecret is SinkConfig.Secret for callers without a SinkConfig: the
// secret comes from the file at path or from the environment variable env,
// exactly one of which must be set.
func ReadSecret(key, path, env string, getenv func(string) string) (string, error) {
	switch {
	case path != "" && env != "":
		return "", fmt.Errorf("%s_file, %s_env: give only one of them", key, key)
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s_file: %w", key, err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("%s_file: %s is empty", key, path)
		}
		return s, nil
	case env != "":
		if getenv == nil {
			getenv = os.Getenv
		}
		s := strings.TrimSpace(getenv(env))
		if s == "" {
			return "", fmt.Errorf("%s_env: environment variable %s is not set", key, env)
		}
		return s, nil
	}
	return "", errors.New(key + "_file or " + key + "_env: one is required")
}

// OptionalSecret is Secret for a secret the sink can do without: when
// neither fileOpt nor envOpt is set it returns "" and no error.
func (c SinkConfig) OptionalSecret(key, fileOpt, envOpt string) (string, error) {
	if fileOpt == "" && envOpt == "" {
		return "", nil
	}
	return c.Secret(key, fileOpt, envOpt)
}

// Paths resolves each path option in place, as Path does.
func (c SinkConfig) Paths(paths ...*string) {
	for _, p := range paths {
		*p = c.Path(*p)
	}
}

// BuildSink is the body of a sink's New. It decodes the sink's options
// into a new O and hands them to build, which reads the secrets and
// resolves the paths they name (recording what is wrong in errs) and then
// calls the sink's own constructor. The problems build recorded come
// first, then the constructor's, joined in one error.
func BuildSink[O any, S Sink](cfg SinkConfig, build func(o O, errs *OptionErrors) (S, error)) (Sink, error) {
	var o O
	if err := cfg.Decode(&o); err != nil {
		return nil, err
	}
	var errs OptionErrors
	s, err := build(o, &errs)
	errs.Add(err)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s, nil
}
