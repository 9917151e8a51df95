// Package httpsink is the forwarder's "http" sink: it POSTs events to any
// HTTP endpoint, as a JSON array or as NDJSON, optionally gzipped, with
// custom headers and an Idempotency-Key.
//
// Confirmed means the endpoint answered 2xx to the request carrying the
// event. 408, 429 and 5xx replies and network errors are temporary (the
// forwarder retries the batch with backoff, honouring nothing more than
// its own schedule); any other 4xx refuses the request's events for good
// and they go to the dead letters with the status and the start of the
// reply.
//
// The Idempotency-Key header is derived from the uuids of the request's
// events (SHA-256, hex), so a retried request carries the same key and a
// receiver that honours the header can drop the repeat.
//
// Options:
//
//	url: https://collector.example/ingest   # required, http or https
//	format: ndjson                           # or json (one array a request)
//	gzip: false                              # Content-Encoding: gzip
//	headers: {X-Source: logbook}             # extra headers (not secrets)
//	token_file: ./collector.token            # or token_env: NAME; sent as
//	auth_header: Authorization               #   "<auth_scheme> <token>" in
//	auth_scheme: Bearer                      #   this header
//	max_events: 500                          # events per request (default 500)
//	timeout: 30s                             # per request
//	ca_file: ./ca.pem                        # extra root CA
package httpsink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/logbookhq/logbook/internal/forward"
)

// Options configures a Sink.
type Options struct {
	URL        string            `yaml:"url"`
	Format     string            `yaml:"format"`
	Gzip       bool              `yaml:"gzip"`
	Headers    map[string]string `yaml:"headers"`
	TokenFile  string            `yaml:"token_file"`
	TokenEnv   string            `yaml:"token_env"`
	AuthHeader string            `yaml:"auth_header"`
	AuthScheme *string           `yaml:"auth_scheme"`
	MaxEvents  int               `yaml:"max_events"`
	Timeout    time.Duration     `yaml:"timeout"`
	CAFile     string            `yaml:"ca_file"`
}

// Sink posts batches to an HTTP endpoint.
type Sink struct {
	name   string
	url    string
	ndjson bool
	gzip   bool
	header http.Header
	max    int
	client *http.Client
}

var _ forward.Sink = (*Sink)(nil)

// New is the forward.NewSinkFunc of the "http" type.
func New(cfg forward.SinkConfig) (forward.Sink, error) {
	return forward.BuildSink(cfg, func(o Options, _ *forward.OptionErrors) (*Sink, error) {
		token, err := cfg.OptionalSecret("token", o.TokenFile, o.TokenEnv)
		if err != nil {
			return nil, err // alone: the other options are not checked
		}
		o.CAFile = cfg.Path(o.CAFile)
		return Open(cfg.Name, o, token)
	})
}

// Open returns an HTTP sink. token, when not empty, goes in the auth
// header.
func Open(name string, o Options, token string) (*Sink, error) {
	var errs forward.OptionErrors
	if o.URL == "" {
		errs.Addf("url: required")
	} else if !forward.IsHTTPURL(o.URL) {
		errs.Addf("url: %q is not an http or https URL", o.URL)
	}
	switch o.Format {
	case "", "ndjson", "json":
	default:
		errs.Addf("format: %q: want ndjson or json", o.Format)
	}
	forward.NonNegative(&errs, "max_events", &o.MaxEvents, 500)
	forward.NonNegative(&errs, "timeout", &o.Timeout, 30*time.Second)
	h := http.Header{}
	for k, v := range o.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(v, "\r\n") {
			errs.Addf("headers: %q is not a valid header", k)
			continue
		}
		h.Set(k, v)
	}
	if token != "" {
		hdr := o.AuthHeader
		if hdr == "" {
			hdr = "Authorization"
		}
		scheme := "Bearer"
		if o.AuthScheme != nil {
			scheme = *o.AuthScheme
		}
		if scheme != "" {
			token = scheme + " " + token
		}
		h.Set(hdr, token)
	}
	var tlsConf *tls.Config // nil: Go's defaults
	if o.CAFile != "" {
		var err error
		tlsConf, err = forward.TLSConfig(o.CAFile, false)
		errs.Add(err)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if o.Format == "json" {
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "application/x-ndjson")
	}
	if o.Gzip {
		h.Set("Content-Encoding", "gzip")
	}
	return &Sink{name: name, url: o.URL, ndjson: o.Format != "json", gzip: o.Gzip, header: h, max: o.MaxEvents,
		client: forward.HTTPClient(tlsConf, o.Timeout)}, nil
}

// Name implements forward.Sink.
func (s *Sink) Name() string { return s.name }

// Write implements forward.Sink.
func (s *Sink) Write(ctx context.Context, b forward.Batch) error {
	var rejected []forward.Rejection
	for start := 0; start < len(b.Events); start += s.max {
		evs := b.Events[start:min(start+s.max, len(b.Events))]
		status, msg, err := s.post(ctx, evs)
		if err != nil {
			return fmt.Errorf("http sink %s: %w", s.name, err)
		}
		switch {
		case status >= 200 && status <= 299:
		case status == 408 || status == 429 || status >= 500:
			return fmt.Errorf("http sink %s: %d %s", s.name, status, msg)
		default:
			for i := range evs {
				rejected = append(rejected, forward.Rejection{Index: start + i, Reason: fmt.Sprintf("HTTP %d: %s", status, msg)})
			}
		}
	}
	if len(rejected) > 0 {
		return &forward.RejectedError{Rejected: rejected}
	}
	return nil
}

// IdempotencyKey is the key sent with a request holding evs.
func IdempotencyKey(evs []forward.Event) string {
	h := sha256.New()
	for _, ev := range evs {
		io.WriteString(h, ev.UUID)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Sink) post(ctx context.Context, evs []forward.Event) (int, string, error) {
	w := forward.NewRequestBody(s.gzip)
	if !s.ndjson {
		w.Write([]byte{'['})
	}
	for i, ev := range evs {
		if i > 0 && !s.ndjson {
			w.Write([]byte{','})
		}
		data := []byte(ev.Data)
		if s.ndjson && bytes.ContainsAny(data, "\r\n") {
			data = bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("\r"), []byte(" ")), []byte("\n"), []byte(" "))
		}
		w.Write(data)
		if s.ndjson {
			w.Write([]byte{'\n'})
		}
	}
	if !s.ndjson {
		w.Write([]byte{']'})
	}
	body, err := w.Finish()
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", s.url, body)
	if err != nil {
		return 0, "", err
	}
	req.Header = s.header.Clone()
	req.Header.Set("Idempotency-Key", IdempotencyKey(evs))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	msg := strings.TrimSpace(string(b))
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return resp.StatusCode, msg, nil
}

// Close implements forward.Sink.
func (s *Sink) Close() error {
	s.client.CloseIdleConnections()
	return nil
}
