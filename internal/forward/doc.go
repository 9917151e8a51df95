// Package forward moves events from Events API sources to sinks, at least
// once and without losing any.
//
// The pump polls one stream per (source, feature), hands every page to every
// configured Sink, and saves the stream's cursor only once every sink has
// confirmed the page (or the page sits fsynced in the on-disk spool). A crash
// at any point therefore repeats at most the pages that were not yet
// confirmed; destinations that can should de-duplicate on the event uuid.
//
// A source with a Verifier (verify: true, verify.go) has each page checked
// against the server's signed tree heads before any sink gets it; a check
// that fails stops the source and leaves its cursor where it was.
//
// # Writing a sink
//
// A sink lives in its own package under internal/sink/ and exports a
// constructor with the NewSinkFunc signature:
//
//	func New(cfg forward.SinkConfig) (forward.Sink, error)
//
// It plugs in with one line in internal/cli/forward_sinks.go:
//
//	"splunk_hec": splunk.New,
//
// The constructor receives the sink's YAML mapping through cfg.Decode (the
// keys "name" and "type" removed). Decode into a struct with yaml tags;
// unknown keys are reported as errors:
//
//	var opts struct {
//		URL       string            `yaml:"url"`
//		TokenFile string            `yaml:"token_file"`
//		TokenEnv  string            `yaml:"token_env"`
//		Headers   map[string]string `yaml:"headers"`
//		Timeout   time.Duration     `yaml:"timeout"` // "10s"
//	}
//	if err := cfg.Decode(&opts); err != nil {
//		return nil, err
//	}
//	token, err := cfg.Secret("token", opts.TokenFile, opts.TokenEnv)
//
// BuildSink does the decoding and joins the problems; the sinks' New are
// one call of it, around their own constructor that takes decoded options:
//
//	return forward.BuildSink(cfg, func(o Options, errs *forward.OptionErrors) (*Sink, error) {
//		token, err := cfg.Secret("token", o.TokenFile, o.TokenEnv)
//		errs.Add(err)
//		o.CAFile = cfg.Path(o.CAFile)
//		return NewSink(cfg.Name, o, token, cfg.Logger)
//	})
//
// Rules for constructors:
//
//   - Validate every option and return an error whose message starts with
//     the option's key and a colon ("url: must be http or https"). The
//     forwarder prefixes the sink's YAML path, so operators read
//     "sinks[1].url: must be http or https". Wrap several problems with
//     errors.Join; each line is reported. OptionErrors collects them in
//     that shape, and NonNegative checks a count or duration and fills its
//     default.
//   - Do no network I/O and create no files: "logbook forward validate"
//     calls the constructor and then Close. Connect lazily in Write.
//   - Never put a secret in an error or a log line. Use cfg.Secret for
//     token_file/token_env style options (cfg.OptionalSecret when the
//     secret may be left out), and cfg.Path for file paths (relative paths
//     are relative to the configuration file).
//   - An HTTP sink takes its client from HTTPClient and its TLS settings
//     from TLSConfig, so every sink treats ca_file, proxies and timeouts
//     alike.
//   - Log through cfg.Logger (never nil).
//
// Rules for Write (see Sink for the full contract):
//
//   - The forwarder never calls Write concurrently on one sink, and calls
//     Close once, after the last Write returned.
//   - Return nil only once the destination confirmed every event, by the
//     meaning of "confirmed" that the sink documents in its package comment.
//   - Return a *RejectedError for events refused for good (they go to the
//     dead-letter directory); any other error means "retry the whole batch
//     later", with backoff, forever. Respect ctx: return promptly when it is
//     cancelled.
//   - The same batch may come again after an error or a crash.
//   - Event.Data holds the event exactly as the Events API sent it (one JSON
//     object); do not modify it. It aliases the page's reply buffer, which
//     the forwarder reuses for a later page once this one is delivered: copy
//     anything that may outlive Write, including what a client library keeps
//     for its own retries after Write returned an error.
package forward
