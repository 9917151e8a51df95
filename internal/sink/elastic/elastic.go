package elastic

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
)

// Options are the sink's YAML options.
type Options struct {
	// URL is the cluster's base URL, such as https://es.example.com:9200.
	URL string `yaml:"url"`
	// Index is the index template. "{feature}" becomes the feature,
	// "{source}" the forwarder source's name, "{date}" the event's UTC
	// timestamp formatted with DateFormat. Default "logbook-{feature}".
	Index string `yaml:"index"`
	// Indexes overrides the template per feature.
	Indexes map[string]string `yaml:"indexes"`
	// DateFormat is the Go time layout for "{date}"; default "2006.01.02".
	DateFormat string `yaml:"date_format"`
	// Pipeline is an ingest pipeline to run on every document.
	Pipeline string `yaml:"pipeline"`
	// Username with PasswordFile or PasswordEnv selects basic auth.
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	PasswordEnv  string `yaml:"password_env"`
	// APIKeyFile or APIKeyEnv hold an encoded API key (base64 of id:key,
	// as Elasticsearch returns it in "encoded"), sent as "ApiKey <key>".
	APIKeyFile string `yaml:"api_key_file"`
	APIKeyEnv  string `yaml:"api_key_env"`
	// Gzip compresses request bodies (the cluster must allow it, as it
	// does by default).
	Gzip bool `yaml:"gzip"`
	// MaxRequestBytes bounds one bulk body before compression; default
	// 5 MiB. A larger event is sent alone.
	MaxRequestBytes int `yaml:"max_request_bytes"`
	// HTTPOptions are timeout (one request, default 60s), ca_file and
	// insecure_skip_verify.
	forward.HTTPOptions `yaml:",inline"`
}

// Defaults of the options left empty.
const (
	DefaultIndex           = "logbook-{feature}"
	DefaultDateFormat      = "2006.01.02"
	DefaultMaxRequestBytes = 5 << 20
	DefaultTimeout         = 60 * time.Second
)

// Sink indexes events with the bulk API. It satisfies forward.Sink.
type Sink struct {
	name   string
	opts   Options
	auth   string // Authorization header value, or ""
	client *http.Client
	log    *slog.Logger
}

var _ forward.Sink = (*Sink)(nil)

// New builds an elasticsearch sink from its configuration; it has the
// forward.NewSinkFunc signature.
func New(cfg forward.SinkConfig) (forward.Sink, error) {
	return forward.BuildSink(cfg, func(o Options, errs *forward.OptionErrors) (*Sink, error) {
		var auth Auth
		if o.Username != "" || o.PasswordFile != "" || o.PasswordEnv != "" {
			if o.Username == "" {
				errs.Addf("username: required with password_file or password_env")
			}
			pw, err := cfg.Secret("password", o.PasswordFile, o.PasswordEnv)
			errs.Add(err)
			auth.Username, auth.Password = o.Username, pw
		}
		key, err := cfg.OptionalSecret("api_key", o.APIKeyFile, o.APIKeyEnv)
		errs.Add(err)
		auth.APIKey = key
		o.CAFile = cfg.Path(o.CAFile)
		return NewSink(cfg.Name, o, auth, cfg.Logger)
	})
}

// Auth holds the credentials, already read from their files or variables.
type Auth struct {
	Username, Password string
	APIKey             string
}

// NewSink builds a sink from decoded options and credentials. It checks
// every option, fills the defaults and does no I/O beyond reading CAFile.
func NewSink(name string, o Options, auth Auth, logger *slog.Logger) (*Sink, error) {
	var errs forward.OptionErrors
	if o.URL == "" {
		errs.Addf("url: required")
	} else if !forward.IsHTTPURL(o.URL) {
		errs.Addf("url: must be an http or https URL with a host, such as https://es.example.com:9200")
	}
	if o.Index == "" {
		o.Index = DefaultIndex
	}
	if err := checkIndexTemplate(o.Index); err != nil {
		errs.Addf("index: %v", err)
	}
	for k, v := range o.Indexes {
		if !events.Feature(k).Valid() {
			errs.Addf("indexes: unknown feature %q", k)
		} else if err := checkIndexTemplate(v); err != nil {
			errs.Addf("indexes.%s: %v", k, err)
		}
	}
	if o.DateFormat == "" {
		o.DateFormat = DefaultDateFormat
	}
	forward.NonNegative(&errs, "max_request_bytes", &o.MaxRequestBytes, DefaultMaxRequestBytes)
	var authz string
	switch {
	case auth.APIKey != "" && auth.Username != "":
		errs.Addf("api_key_file, username: give either an API key or a username and password")
	case auth.APIKey != "":
		authz = "ApiKey " + auth.APIKey
	case auth.Username != "":
		if strings.Contains(auth.Username, ":") {
			errs.Addf("username: must not contain ':'")
		}
		req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
		req.SetBasicAuth(auth.Username, auth.Password)
		authz = req.Header.Get("Authorization")
	}
	client := o.Client(&errs, DefaultTimeout)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return &Sink{
		name:   name,
		opts:   o,
		auth:   authz,
		client: client,
		log:    cmp.Or(logger, slog.New(slog.DiscardHandler)),
	}, nil
}

// checkIndexTemplate applies Elasticsearch's index name rules to the
// template's fixed parts.
func checkIndexTemplate(t string) error {
	fixed := strings.NewReplacer("{feature}", "x", "{source}", "x", "{date}", "x").Replace(t)
	switch {
	case fixed != strings.ToLower(fixed):
		return errors.New("must be lower case")
	case strings.ContainsAny(fixed, `\/*?"<>| ,#:`):
		//lint:ignore ST1005 the message ends with the last character it lists
		return errors.New(`must not contain \ / * ? " < > | space , # :`)
	case strings.HasPrefix(fixed, "_") || strings.HasPrefix(fixed, "-") || strings.HasPrefix(fixed, "+"):
		return errors.New("must not start with _, - or +")
	}
	return nil
}

// Name returns the configured name.
func (s *Sink) Name() string { return s.name }

// Close releases idle connections.
func (s *Sink) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

// indexName renders the index of one event of b.
func (s *Sink) indexName(b forward.Batch, ev forward.Event) string {
	t := s.opts.Indexes[string(b.Feature)]
	if t == "" {
		t = s.opts.Index
	}
	if !strings.Contains(t, "{") {
		return t
	}
	date := ""
	if strings.Contains(t, "{date}") {
		ts := ev.Time
		if ts.IsZero() {
			ts = time.Unix(0, 0)
		}
		date = ts.UTC().Format(s.opts.DateFormat)
	}
	return strings.ToLower(strings.NewReplacer("{feature}", string(b.Feature), "{source}", b.Source, "{date}", date).Replace(t))
}

// BulkError is a bulk request the cluster refused as a whole.
type BulkError struct {
	Status int
	Type   string
	Reason string
}

func (e *BulkError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("elasticsearch bulk: %d %s", e.Status, e.Reason)
	}
	return fmt.Sprintf("elasticsearch bulk: %d %s: %s", e.Status, e.Type, e.Reason)
}

type itemError struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

type bulkReply struct {
	Errors bool                         `json:"errors"`
	Items  []map[string]json.RawMessage `json:"items"`
}

type bulkItem struct {
	ID     string     `json:"_id"`
	Status int        `json:"status"`
	Error  *itemError `json:"error"`
}

// Write indexes every event of b and returns nil once every bulk item is
// 201 or 409 (see the package comment).
func (s *Sink) Write(ctx context.Context, b forward.Batch) error {
	var rejected []forward.Rejection
	var retry []string // reasons of retryable items
	var body bytes.Buffer
	var idx []int // event index of each action in body
	flush := func() error {
		if len(idx) == 0 {
			return nil
		}
		items, err := s.bulk(ctx, body.Bytes(), len(idx))
		if err != nil {
			return err
		}
		for i, it := range items {
			switch {
			case it.Status == http.StatusCreated || it.Status == http.StatusOK || it.Status == http.StatusConflict:
			case it.Status == http.StatusTooManyRequests || it.Status >= 500 || it.Status < 200:
				retry = append(retry, fmt.Sprintf("%d %s", it.Status, reason(it)))
			default:
				rejected = append(rejected, forward.Rejection{
					Index:  idx[i],
					Reason: fmt.Sprintf("elasticsearch: %d %s", it.Status, reason(it)),
				})
			}
		}
		body.Reset()
		idx = idx[:0]
		return nil
	}
	for i, ev := range b.Events {
		line := s.action(b, ev)
		if len(idx) > 0 && body.Len()+len(line)+len(ev.Data)+1 > s.opts.MaxRequestBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		body.Write(line)
		// NDJSON allows no newline inside a document, and the API may
		// have sent one indented.
		body.Write(forward.AppendOneLine(body.AvailableBuffer(), ev.Data))
		body.WriteByte('\n')
		idx = append(idx, i)
	}
	if err := flush(); err != nil {
		return err
	}
	if len(retry) > 0 {
		return fmt.Errorf("elasticsearch bulk: %d of %d items to retry, first: %s", len(retry), len(b.Events), retry[0])
	}
	if len(rejected) > 0 {
		return &forward.RejectedError{Rejected: rejected}
	}
	return nil
}

func reason(it bulkItem) string {
	if it.Error == nil {
		return http.StatusText(it.Status)
	}
	return it.Error.Type + ": " + it.Error.Reason
}

// action renders the "create" line of one event.
func (s *Sink) action(b forward.Batch, ev forward.Event) []byte {
	meta := struct {
		Index string `json:"_index"`
		ID    string `json:"_id,omitempty"`
	}{s.indexName(b, ev), ev.UUID}
	line, _ := json.Marshal(map[string]any{"create": meta})
	return append(line, '\n')
}

// bulk sends one request of n actions and returns its n items.
func (s *Sink) bulk(ctx context.Context, ndjson []byte, n int) ([]bulkItem, error) {
	var body io.Reader = bytes.NewReader(ndjson)
	if s.opts.Gzip {
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		_, _ = zw.Write(ndjson)
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("elasticsearch bulk: gzip: %w", err)
		}
		body = &zb
	}
	u := strings.TrimRight(s.opts.URL, "/") + "/_bulk"
	if s.opts.Pipeline != "" {
		u += "?pipeline=" + url.QueryEscape(s.opts.Pipeline)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, body)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch bulk: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if s.opts.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if s.auth != "" {
		req.Header.Set("Authorization", s.auth)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch bulk: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch bulk: read reply: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &BulkError{Status: resp.StatusCode, Reason: http.StatusText(resp.StatusCode)}
		var eb struct {
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(raw, &eb) == nil && len(eb.Error) > 0 {
			var ie itemError
			if json.Unmarshal(eb.Error, &ie) == nil && ie.Type != "" {
				e.Type, e.Reason = ie.Type, ie.Reason
			} else {
				var str string
				if json.Unmarshal(eb.Error, &str) == nil {
					e.Reason = str
				}
			}
		}
		return nil, e
	}
	var r bulkReply
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("elasticsearch bulk: reply is not bulk JSON: %w", err)
	}
	if len(r.Items) != n {
		return nil, fmt.Errorf("elasticsearch bulk: reply has %d items for %d actions", len(r.Items), n)
	}
	items := make([]bulkItem, n)
	for i, m := range r.Items {
		rawItem, ok := m["create"]
		if !ok {
			return nil, fmt.Errorf("elasticsearch bulk: item %d is not a create result", i)
		}
		if err := json.Unmarshal(rawItem, &items[i]); err != nil {
			return nil, fmt.Errorf("elasticsearch bulk: item %d: %w", i, err)
		}
	}
	return items, nil
}
