package splunk

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
)

// Options are the sink's YAML options.
type Options struct {
	// URL is the HEC base URL, such as https://splunk.example.com:8088.
	// The sink appends /services/collector/event and /services/collector/ack.
	URL string `yaml:"url"`
	// TokenFile or TokenEnv give the HEC token.
	TokenFile string `yaml:"token_file"`
	TokenEnv  string `yaml:"token_env"`
	// SourceType is the sourcetype template; "{feature}" is replaced by the
	// feature. Default "1password:events:{feature}".
	SourceType string `yaml:"sourcetype"`
	// SourceTypes overrides the sourcetype per feature.
	SourceTypes map[string]string `yaml:"sourcetypes"`
	// Source is the source template; "{source}" is replaced by the
	// forwarder source's name and "{feature}" by the feature. Default
	// "logbook:{source}".
	Source string `yaml:"source"`
	// Index is the index for every feature; empty means the token's
	// default index.
	Index string `yaml:"index"`
	// Indexes overrides the index per feature.
	Indexes map[string]string `yaml:"indexes"`
	// Host is the host field; empty leaves it to HEC.
	Host string `yaml:"host"`
	// Gzip compresses request bodies.
	Gzip bool `yaml:"gzip"`
	// Ack turns on indexer acknowledgement.
	Ack bool `yaml:"ack"`
	// Channel is the HEC channel GUID; default a random one per process.
	Channel string `yaml:"channel"`
	// AckPollInterval is the wait between ack polls; default 1s.
	AckPollInterval time.Duration `yaml:"ack_poll_interval"`
	// AckTimeout is how long to wait for every ack of a batch; default 2m.
	AckTimeout time.Duration `yaml:"ack_timeout"`
	// MaxRequestBytes bounds one request body before compression;
	// default 1 MiB. A larger event is sent alone.
	MaxRequestBytes int `yaml:"max_request_bytes"`
	// HTTPOptions are timeout (one request, default 30s), ca_file and
	// insecure_skip_verify.
	forward.HTTPOptions `yaml:",inline"`
}

// Defaults of the options left empty.
const (
	DefaultSourceType      = "1password:events:{feature}"
	DefaultSource          = "logbook:{source}"
	DefaultAckPollInterval = time.Second
	DefaultAckTimeout      = 2 * time.Minute
	DefaultMaxRequestBytes = 1 << 20
	DefaultTimeout         = 30 * time.Second
)

// Sink sends events to a Splunk HEC. It satisfies forward.Sink.
type Sink struct {
	name    string
	opts    Options
	token   string
	channel string
	client  *http.Client
	log     *slog.Logger
}

var _ forward.Sink = (*Sink)(nil)

// New builds a splunk_hec sink from its configuration; it has the
// forward.NewSinkFunc signature.
func New(cfg forward.SinkConfig) (forward.Sink, error) {
	return forward.BuildSink(cfg, func(o Options, errs *forward.OptionErrors) (*Sink, error) {
		token, err := cfg.Secret("token", o.TokenFile, o.TokenEnv)
		errs.Add(err)
		o.CAFile = cfg.Path(o.CAFile)
		return NewSink(cfg.Name, o, token, cfg.Logger)
	})
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// NewSink builds a sink from decoded options and the HEC token. It checks
// every option, fills the defaults and does no I/O beyond reading CAFile.
func NewSink(name string, o Options, token string, logger *slog.Logger) (*Sink, error) {
	var errs forward.OptionErrors
	if o.URL == "" {
		errs.Addf("url: required")
	} else if !forward.IsHTTPURL(o.URL) {
		errs.Addf("url: must be an http or https URL with a host, such as https://splunk.example.com:8088")
	}
	if token == "" {
		errs.Addf("token: required")
	}
	if o.SourceType == "" {
		o.SourceType = DefaultSourceType
	}
	if o.Source == "" {
		o.Source = DefaultSource
	}
	for k := range o.SourceTypes {
		if !events.Feature(k).Valid() {
			errs.Addf("sourcetypes: unknown feature %q", k)
		}
	}
	for k := range o.Indexes {
		if !events.Feature(k).Valid() {
			errs.Addf("indexes: unknown feature %q", k)
		}
	}
	if o.Channel != "" && !guidRE.MatchString(o.Channel) {
		errs.Addf("channel: must be a GUID such as 0C8A4A5F-3F0A-4E5C-9C1B-2D7F8E6A1B3C")
	}
	if o.Channel == "" {
		o.Channel = newGUID()
	}
	forward.NonNegative(&errs, "ack_poll_interval", &o.AckPollInterval, DefaultAckPollInterval)
	forward.NonNegative(&errs, "ack_timeout", &o.AckTimeout, DefaultAckTimeout)
	forward.NonNegative(&errs, "max_request_bytes", &o.MaxRequestBytes, DefaultMaxRequestBytes)
	client := o.Client(&errs, DefaultTimeout)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return &Sink{
		name:    name,
		opts:    o,
		token:   token,
		channel: o.Channel,
		client:  client,
		log:     cmp.Or(logger, slog.New(slog.DiscardHandler)),
	}, nil
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Name returns the configured name.
func (s *Sink) Name() string { return s.name }

// Close releases idle connections.
func (s *Sink) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

// hecReply is the body of every HEC reply.
type hecReply struct {
	Text               string `json:"text"`
	Code               int    `json:"code"`
	AckID              *int64 `json:"ackId"`
	InvalidEventNumber *int   `json:"invalid-event-number"`
}

// HECError is a reply from HEC other than success.
type HECError struct {
	Status int    // HTTP status
	Code   int    // HEC code, -1 when the body had none
	Text   string // HEC text or the HTTP status text
}

func (e *HECError) Error() string {
	if e.Code < 0 {
		return fmt.Sprintf("splunk hec: %d %s", e.Status, e.Text)
	}
	return fmt.Sprintf("splunk hec: %d %s (code %d)", e.Status, e.Text, e.Code)
}

// eventCodes are the HEC codes that come with the number of the bad event.
var eventCodes = map[int]bool{6: true, 12: true, 13: true, 15: true}

// Write sends every event of b and returns nil once HEC confirmed them all
// (see the package comment for what that means with and without ack).
func (s *Sink) Write(ctx context.Context, b forward.Batch) error {
	prefix, err := s.prefix(b)
	if err != nil {
		return err
	}
	objs := make([][]byte, len(b.Events))
	for i, ev := range b.Events {
		objs[i] = encodeEvent(prefix, ev)
	}
	pending := make([]int, len(b.Events)) // indexes still to send
	for i := range pending {
		pending[i] = i
	}
	var rejected []forward.Rejection
	var acks []int64
	maxCount := len(pending)
	for len(pending) > 0 {
		// Take as many pending events as fit in one request.
		n, size := 0, 0
		for n < len(pending) && n < maxCount {
			l := len(objs[pending[n]])
			if n > 0 && size+l > s.opts.MaxRequestBytes {
				break
			}
			size += l
			n++
		}
		chunk := pending[:n]
		reply, status, err := s.send(ctx, objs, chunk)
		switch {
		case err != nil:
			return err
		case status == http.StatusOK && reply.Code == 0:
			if s.opts.Ack {
				if reply.AckID == nil {
					return errors.New("splunk hec: ack is on but the reply carried no ackId; enable indexer acknowledgement on the HEC token or set ack: false")
				}
				acks = append(acks, *reply.AckID)
			}
			pending = pending[n:]
			maxCount = len(pending)
		case status == http.StatusBadRequest && eventCodes[reply.Code] && reply.InvalidEventNumber != nil &&
			*reply.InvalidEventNumber >= 0 && *reply.InvalidEventNumber < n:
			k := *reply.InvalidEventNumber
			rejected = append(rejected, forward.Rejection{
				Index:  chunk[k],
				Reason: fmt.Sprintf("splunk hec: %s (code %d)", reply.Text, reply.Code),
			})
			// Send the others again: HEC may or may not have taken the
			// events before the bad one, and only a resend is sure.
			pending = append(append([]int(nil), chunk[:k]...), pending[k+1:]...)
		case status == http.StatusRequestEntityTooLarge && n > 1:
			maxCount = n / 2
		case status == http.StatusRequestEntityTooLarge:
			rejected = append(rejected, forward.Rejection{
				Index:  chunk[0],
				Reason: fmt.Sprintf("splunk hec: event of %d bytes is larger than the collector accepts (413)", len(objs[chunk[0]])),
			})
			pending = pending[1:]
			maxCount = len(pending)
		default:
			text := reply.Text
			code := reply.Code
			if text == "" {
				text = http.StatusText(status)
				code = -1
			}
			return &HECError{Status: status, Code: code, Text: text}
		}
	}
	if len(acks) > 0 {
		if err := s.waitAcks(ctx, acks); err != nil {
			return err
		}
	}
	if len(rejected) > 0 {
		return &forward.RejectedError{Rejected: rejected}
	}
	return nil
}

// prefix renders the fields every event of b shares, up to "event":.
func (s *Sink) prefix(b forward.Batch) ([]byte, error) {
	f := string(b.Feature)
	st := s.opts.SourceTypes[f]
	if st == "" {
		st = strings.ReplaceAll(s.opts.SourceType, "{feature}", f)
	}
	src := strings.NewReplacer("{source}", b.Source, "{feature}", f).Replace(s.opts.Source)
	idx := s.opts.Indexes[f]
	if idx == "" {
		idx = s.opts.Index
	}
	var buf bytes.Buffer
	field := func(k, v string) {
		if v == "" {
			return
		}
		q, _ := json.Marshal(v)
		buf.WriteString(`,"` + k + `":`)
		buf.Write(q)
	}
	field("host", s.opts.Host)
	field("source", src)
	field("sourcetype", st)
	field("index", idx)
	buf.WriteString(`,"event":`)
	return buf.Bytes(), nil
}

// encodeEvent renders one HEC event object. prefix starts with a comma.
func encodeEvent(prefix []byte, ev forward.Event) []byte {
	out := make([]byte, 0, len(prefix)+len(ev.Data)+40)
	out = append(out, '{')
	if !ev.Time.IsZero() {
		sec := ev.Time.Unix()
		usec := ev.Time.Nanosecond() / 1000
		out = append(out, `"time":`...)
		out = strconv.AppendInt(out, sec, 10)
		out = append(out, '.')
		frac := strconv.Itoa(usec + 1000000)
		out = append(out, frac[1:]...)
		out = append(out, prefix...)
	} else {
		out = append(out, prefix[1:]...)
	}
	out = append(out, ev.Data...)
	return append(out, '}', '\n')
}

// send posts the events chunk (indexes into objs) in one request.
func (s *Sink) send(ctx context.Context, objs [][]byte, chunk []int) (hecReply, int, error) {
	rb := forward.NewRequestBody(s.opts.Gzip)
	for _, i := range chunk {
		_, _ = rb.Write(objs[i])
	}
	body, err := rb.Finish()
	if err != nil {
		return hecReply{}, 0, fmt.Errorf("splunk hec: gzip: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint("/services/collector/event"), body)
	if err != nil {
		return hecReply{}, 0, fmt.Errorf("splunk hec: %w", err)
	}
	if rb.Gzip() {
		req.Header.Set("Content-Encoding", "gzip")
	}
	return s.do(req)
}

func (s *Sink) endpoint(path string) string {
	return strings.TrimRight(s.opts.URL, "/") + path
}

// setHeader sets the token, content type and channel every HEC request
// carries.
func (s *Sink) setHeader(req *http.Request) {
	req.Header.Set("Authorization", "Splunk "+s.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Splunk-Request-Channel", s.channel)
}

func (s *Sink) do(req *http.Request) (hecReply, int, error) {
	s.setHeader(req)
	resp, err := s.client.Do(req)
	if err != nil {
		return hecReply{}, 0, fmt.Errorf("splunk hec: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return hecReply{}, 0, fmt.Errorf("splunk hec: read reply: %w", err)
	}
	var r hecReply
	if err := json.Unmarshal(raw, &r); err != nil {
		if resp.StatusCode == http.StatusOK {
			return hecReply{}, 0, fmt.Errorf("splunk hec: reply is not HEC JSON: %w", err)
		}
		r = hecReply{Code: -1}
	}
	return r, resp.StatusCode, nil
}

// waitAcks polls the ack endpoint until every id is acknowledged, or
// AckTimeout passes.
func (s *Sink) waitAcks(ctx context.Context, ids []int64) error {
	deadline := time.NewTimer(s.opts.AckTimeout)
	defer deadline.Stop()
	pending := ids
	for {
		still, err := s.pollAcks(ctx, pending)
		if err != nil {
			return err
		}
		if len(still) == 0 {
			return nil
		}
		pending = still
		wait := time.NewTimer(s.opts.AckPollInterval)
		select {
		case <-ctx.Done():
			wait.Stop()
			return ctx.Err()
		case <-deadline.C:
			wait.Stop()
			return fmt.Errorf("splunk hec: %d of %d requests not acknowledged by the indexers after %s", len(pending), len(ids), s.opts.AckTimeout)
		case <-wait.C:
		}
	}
}

// pollAcks asks once about ids and returns those not yet acknowledged.
func (s *Sink) pollAcks(ctx context.Context, ids []int64) ([]int64, error) {
	body, _ := json.Marshal(map[string][]int64{"acks": ids})
	u := s.endpoint("/services/collector/ack") + "?channel=" + url.QueryEscape(s.channel)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("splunk hec: %w", err)
	}
	s.setHeader(req)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("splunk hec: ack: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("splunk hec: ack: read reply: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var r hecReply
		if json.Unmarshal(raw, &r) != nil || r.Text == "" {
			return nil, fmt.Errorf("splunk hec: ack: %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		}
		return nil, fmt.Errorf("splunk hec: ack: %w", &HECError{Status: resp.StatusCode, Code: r.Code, Text: r.Text})
	}
	var r struct {
		Acks map[string]bool `json:"acks"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("splunk hec: ack: reply is not HEC JSON: %w", err)
	}
	var still []int64
	for _, id := range ids {
		if !r.Acks[strconv.FormatInt(id, 10)] {
			still = append(still, id)
		}
	}
	return still, nil
}
