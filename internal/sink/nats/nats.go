package nats

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/logbookhq/logbook/internal/forward"
)

// Options are the sink's YAML options.
type Options struct {
	// URL is one server URL or a comma-separated list; default
	// nats://127.0.0.1:4222.
	URL string `yaml:"url"`
	// Subject is the subject template: "{feature}" and "{source}" are
	// replaced. Default "logbook.events.{feature}".
	Subject string `yaml:"subject"`
	// Stream, when set, is the stream every message must land in (the
	// publish carries Nats-Expected-Stream).
	Stream string `yaml:"stream"`
	// CreateStream creates Stream when it does not exist.
	CreateStream bool `yaml:"create_stream"`
	// StreamSubjects are the subjects of a created stream; default the
	// subject template with each placeholder as "*".
	StreamSubjects []string `yaml:"stream_subjects"`
	// DuplicateWindow of a created stream; default 2m (JetStream's).
	DuplicateWindow time.Duration `yaml:"duplicate_window"`
	// MaxAge of a created stream; default unlimited.
	MaxAge time.Duration `yaml:"max_age"`
	// MaxMsgSize of a created stream in bytes; default unlimited.
	MaxMsgSize int32 `yaml:"max_msg_size"`
	// Storage of a created stream: "file" (default) or "memory".
	Storage string `yaml:"storage"`
	// Replicas of a created stream; default 1.
	Replicas int `yaml:"replicas"`
	// CredsFile is a NATS credentials file (JWT and nkey seed).
	CredsFile string `yaml:"creds_file"`
	// TokenFile or TokenEnv give a token.
	TokenFile string `yaml:"token_file"`
	TokenEnv  string `yaml:"token_env"`
	// User with PasswordFile or PasswordEnv selects user and password.
	User         string `yaml:"user"`
	PasswordFile string `yaml:"password_file"`
	PasswordEnv  string `yaml:"password_env"`
	// CAFile, CertFile and KeyFile configure TLS.
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// Timeout bounds connecting and waiting for the PubAcks of a batch;
	// default 30s.
	Timeout time.Duration `yaml:"timeout"`
	// MaxPending bounds the messages in flight; default 4000.
	MaxPending int `yaml:"max_pending"`
}

// Defaults of the options left empty.
const (
	DefaultURL        = "nats://127.0.0.1:4222"
	DefaultSubject    = "logbook.events.{feature}"
	DefaultTimeout    = 30 * time.Second
	DefaultMaxPending = 4000
)

// Secrets are the credentials, already read from their files or variables.
type Secrets struct {
	Token    string
	Password string
}

// Sink publishes to JetStream. It satisfies forward.Sink.
type Sink struct {
	name    string
	opts    Options
	secrets Secrets
	log     *slog.Logger

	mu       sync.Mutex // guards the connection fields
	nc       *natsgo.Conn
	js       jetstream.JetStream
	streamOK bool
}

var _ forward.Sink = (*Sink)(nil)

// New builds a nats sink from its configuration; it has the
// forward.NewSinkFunc signature.
func New(cfg forward.SinkConfig) (forward.Sink, error) {
	return forward.BuildSink(cfg, func(o Options, errs *forward.OptionErrors) (*Sink, error) {
		var sec Secrets
		var err error
		sec.Token, err = cfg.OptionalSecret("token", o.TokenFile, o.TokenEnv)
		errs.Add(err)
		sec.Password, err = cfg.OptionalSecret("password", o.PasswordFile, o.PasswordEnv)
		errs.Add(err)
		cfg.Paths(&o.CredsFile, &o.CAFile, &o.CertFile, &o.KeyFile)
		return NewSink(cfg.Name, o, sec, cfg.Logger)
	})
}

// NewSink builds a sink from decoded options and secrets. It checks every
// option and fills the defaults; it does not connect.
func NewSink(name string, o Options, sec Secrets, logger *slog.Logger) (*Sink, error) {
	var errs forward.OptionErrors
	if o.URL == "" {
		o.URL = DefaultURL
	}
	for _, u := range strings.Split(o.URL, ",") {
		pu, err := url.Parse(strings.TrimSpace(u))
		if err != nil || pu.Host == "" || !map[string]bool{"nats": true, "tls": true, "ws": true, "wss": true}[pu.Scheme] {
			errs.Addf("url: %q is not a nats://, tls://, ws:// or wss:// URL with a host", u)
		}
	}
	if o.Subject == "" {
		o.Subject = DefaultSubject
	}
	if err := checkSubject(o.Subject); err != nil {
		errs.Addf("subject: %v", err)
	}
	if o.Stream != "" && strings.ContainsAny(o.Stream, ".*> \t") {
		errs.Addf("stream: %q must not contain '.', '*', '>' or spaces", o.Stream)
	}
	if o.CreateStream && o.Stream == "" {
		errs.Addf("create_stream: needs stream, the name of the stream to create")
	}
	if len(o.StreamSubjects) == 0 {
		o.StreamSubjects = []string{strings.NewReplacer("{feature}", "*", "{source}", "*").Replace(o.Subject)}
	}
	switch o.Storage {
	case "", "file", "memory":
	default:
		errs.Addf("storage: %q must be file or memory", o.Storage)
	}
	if o.Replicas < 0 || o.Replicas > 5 {
		errs.Addf("replicas: must be 1 to 5")
	}
	if o.DuplicateWindow < 0 || o.MaxAge < 0 || o.MaxMsgSize < 0 {
		errs.Addf("duplicate_window, max_age, max_msg_size: must not be negative")
	}
	forward.NonNegative(&errs, "timeout", &o.Timeout, DefaultTimeout)
	forward.NonNegative(&errs, "max_pending", &o.MaxPending, DefaultMaxPending)
	if sec.Password != "" && o.User == "" {
		errs.Addf("user: required with password_file or password_env")
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		errs.Addf("cert_file, key_file: give both or neither")
	}
	for key, p := range map[string]string{"creds_file": o.CredsFile, "ca_file": o.CAFile, "cert_file": o.CertFile, "key_file": o.KeyFile} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			errs.Addf("%s: %v", key, err)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return &Sink{name: name, opts: o, secrets: sec, log: cmp.Or(logger, slog.New(slog.DiscardHandler))}, nil
}

// checkSubject makes sure a rendered subject is valid: placeholders fill
// whole tokens, and no token is empty or a wildcard.
func checkSubject(t string) error {
	for _, tok := range strings.Split(t, ".") {
		switch {
		case tok == "":
			return errors.New("has an empty token")
		case tok == "*" || tok == ">":
			return errors.New("must not contain wildcards")
		case strings.ContainsAny(tok, " \t\r\n"):
			return errors.New("must not contain white space")
		case strings.Contains(tok, "{") && tok != "{feature}" && tok != "{source}":
			return fmt.Errorf("placeholder in %q must be a whole token ({feature} or {source})", tok)
		}
	}
	return nil
}

// Name returns the configured name.
func (s *Sink) Name() string { return s.name }

// Close closes the connection. Nothing is buffered: Write returns only
// after every PubAck of its batch.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nc != nil {
		s.nc.Close()
		s.nc, s.js = nil, nil
	}
	return nil
}

// connect opens the connection and checks or creates the stream, once.
func (s *Sink) connect(ctx context.Context) (jetstream.JetStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nc == nil {
		opts := []natsgo.Option{
			natsgo.Name("logbook forward " + s.name),
			natsgo.Timeout(s.opts.Timeout),
			natsgo.MaxReconnects(-1),
			natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
				if err != nil {
					s.log.Warn("nats disconnected", "err", err)
				}
			}),
			natsgo.ReconnectHandler(func(c *natsgo.Conn) { s.log.Info("nats reconnected", "server", c.ConnectedUrlRedacted()) }),
		}
		if s.opts.CredsFile != "" {
			opts = append(opts, natsgo.UserCredentials(s.opts.CredsFile))
		}
		if s.secrets.Token != "" {
			opts = append(opts, natsgo.Token(s.secrets.Token))
		}
		if s.opts.User != "" {
			opts = append(opts, natsgo.UserInfo(s.opts.User, s.secrets.Password))
		}
		if s.opts.CAFile != "" {
			opts = append(opts, natsgo.RootCAs(s.opts.CAFile))
		}
		if s.opts.CertFile != "" {
			opts = append(opts, natsgo.ClientCert(s.opts.CertFile, s.opts.KeyFile))
		}
		nc, err := natsgo.Connect(s.opts.URL, opts...)
		if err != nil {
			return nil, fmt.Errorf("nats: connect: %w", err)
		}
		js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(s.opts.MaxPending), jetstream.WithPublishAsyncTimeout(s.opts.Timeout))
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("nats: jetstream: %w", err)
		}
		s.nc, s.js = nc, js
	}
	if s.opts.Stream != "" && !s.streamOK {
		if err := s.ensureStream(ctx); err != nil {
			return nil, err
		}
		s.streamOK = true
	}
	return s.js, nil
}

func (s *Sink) ensureStream(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	_, err := s.js.Stream(ctx, s.opts.Stream)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, jetstream.ErrStreamNotFound):
		return fmt.Errorf("nats: stream %s: %w", s.opts.Stream, err)
	case !s.opts.CreateStream:
		return fmt.Errorf("nats: stream %s does not exist (set create_stream to create it)", s.opts.Stream)
	}
	storage := jetstream.FileStorage
	if s.opts.Storage == "memory" {
		storage = jetstream.MemoryStorage
	}
	cfg := jetstream.StreamConfig{
		Name:        s.opts.Stream,
		Description: "1Password events forwarded by Logbook",
		Subjects:    s.opts.StreamSubjects,
		Storage:     storage,
		Replicas:    s.opts.Replicas,
		Duplicates:  s.opts.DuplicateWindow,
		MaxAge:      s.opts.MaxAge,
		MaxMsgSize:  s.opts.MaxMsgSize,
	}
	if cfg.MaxMsgSize == 0 {
		cfg.MaxMsgSize = -1
	}
	_, err = s.js.CreateStream(ctx, cfg)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return nil // created by someone else meanwhile
	}
	if err != nil {
		return fmt.Errorf("nats: create stream %s: %w", s.opts.Stream, err)
	}
	s.log.Info("nats stream created", "stream", s.opts.Stream, "subjects", strings.Join(cfg.Subjects, ","))
	return nil
}

func (s *Sink) subject(b forward.Batch) string {
	return strings.NewReplacer("{feature}", string(b.Feature), "{source}", subjectToken(b.Source)).Replace(s.opts.Subject)
}

// subjectToken makes a source name usable as one subject token.
func subjectToken(name string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '.', '*', '>', ' ', '\t', '\r', '\n':
			return '_'
		}
		return r
	}, name)
}

// permanent reports whether a publish error can never succeed for that
// message.
func permanent(err error) bool {
	if errors.Is(err, natsgo.ErrMaxPayload) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum
}

// Write publishes every event of b and returns nil once JetStream
// acknowledged each one.
func (s *Sink) Write(ctx context.Context, b forward.Batch) error {
	if !b.Feature.Valid() {
		return fmt.Errorf("nats: batch has unknown feature %q", b.Feature)
	}
	js, err := s.connect(ctx)
	if err != nil {
		return err
	}
	subject := s.subject(b)
	var popts []jetstream.PublishOpt
	if s.opts.Stream != "" {
		popts = append(popts, jetstream.WithExpectStream(s.opts.Stream))
	}
	futures := make([]jetstream.PubAckFuture, len(b.Events))
	var rejected []forward.Rejection
	for i, ev := range b.Events {
		m := natsgo.NewMsg(subject)
		// A copy: the client keeps the message for its own retries (no
		// responders) and Write may return before every PubAck, while
		// the forwarder reuses the page's buffer once it is delivered.
		m.Data = bytes.Clone(ev.Data)
		opts := popts
		if ev.UUID != "" {
			opts = append(opts[:len(opts):len(opts)], jetstream.WithMsgID(ev.UUID))
		}
		f, err := js.PublishMsgAsync(m, opts...)
		switch {
		case err == nil:
			futures[i] = f
		case permanent(err):
			rejected = append(rejected, forward.Rejection{Index: i, Reason: "nats: " + err.Error()})
		default:
			return fmt.Errorf("nats: publish to %s: %w", subject, err)
		}
	}
	timeout := time.NewTimer(s.opts.Timeout)
	defer timeout.Stop()
	var failed []string
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case <-f.Ok():
		case err := <-f.Err():
			if permanent(err) {
				rejected = append(rejected, forward.Rejection{Index: i, Reason: "nats: " + err.Error()})
			} else {
				failed = append(failed, err.Error())
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout.C:
			return fmt.Errorf("nats: no PubAck within %s for some of %d messages on %s", s.opts.Timeout, len(b.Events), subject)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("nats: %d of %d messages on %s not stored, first: %s", len(failed), len(b.Events), subject, failed[0])
	}
	if len(rejected) > 0 {
		return &forward.RejectedError{Rejected: rejected}
	}
	return nil
}
