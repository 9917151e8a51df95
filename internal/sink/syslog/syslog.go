package syslog

import (
	"bufio"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/forward"
)

// Options are the sink's YAML options.
type Options struct {
	// Network is "udp", "tcp" (default) or "tls".
	Network string `yaml:"network"`
	// Address is the receiver's host:port.
	Address string `yaml:"address"`
	// Facility is a facility name (kern, user, …, auth, authpriv, local0 …
	// local7); default local0.
	Facility string `yaml:"facility"`
	// Severity is a severity name (emerg … debug); default info.
	Severity string `yaml:"severity"`
	// Hostname is the HOSTNAME field; default this host's name.
	Hostname string `yaml:"hostname"`
	// AppName is the APP-NAME field; default "logbook".
	AppName string `yaml:"app_name"`
	// MsgIDs overrides the MSGID per feature; default the feature name.
	MsgIDs map[string]string `yaml:"msgids"`
	// StructuredDataID, when set (such as "logbook@32473"), adds
	// [ID uuid="…" source="…"] to every message.
	StructuredDataID string `yaml:"structured_data_id"`
	// Timeout bounds dialing and writing one batch; default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// CAFile, CertFile, KeyFile, ServerName and InsecureSkipVerify
	// configure TLS. ServerName defaults to Address's host.
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Defaults of the options left empty.
const (
	DefaultNetwork  = "tcp"
	DefaultFacility = "local0"
	DefaultSeverity = "info"
	DefaultAppName  = "logbook"
	DefaultTimeout  = 10 * time.Second
	// MaxUDPMessage is the largest message a UDP datagram carries.
	MaxUDPMessage = 65507
)

var facilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
	"uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, "ntp": 12, "security": 13, "console": 14, "solaris-cron": 15,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

var severities = map[string]int{
	"emerg": 0, "alert": 1, "crit": 2, "err": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7,
}

// Sink sends RFC 5424 messages. It satisfies forward.Sink.
type Sink struct {
	name string
	opts Options
	pri  int
	tls  *tls.Config
	log  *slog.Logger
	dial func(ctx context.Context) (net.Conn, error)

	conn net.Conn // kept between batches for tcp and tls
	bw   *bufio.Writer
}

var _ forward.Sink = (*Sink)(nil)

// New builds a syslog sink from its configuration; it has the
// forward.NewSinkFunc signature.
func New(cfg forward.SinkConfig) (forward.Sink, error) {
	return forward.BuildSink(cfg, func(o Options, _ *forward.OptionErrors) (*Sink, error) {
		cfg.Paths(&o.CAFile, &o.CertFile, &o.KeyFile)
		return NewSink(cfg.Name, o, cfg.Logger)
	})
}

// NewSink builds a sink from decoded options. It checks every option and
// fills the defaults; it reads the TLS files but does not connect.
func NewSink(name string, o Options, logger *slog.Logger) (*Sink, error) {
	var errs forward.OptionErrors
	if o.Network == "" {
		o.Network = DefaultNetwork
	}
	if o.Network != "udp" && o.Network != "tcp" && o.Network != "tls" {
		errs.Addf("network: %q must be udp, tcp or tls", o.Network)
	}
	host, port, err := net.SplitHostPort(o.Address)
	if o.Address == "" {
		errs.Addf("address: required (host:port)")
	} else if err != nil || host == "" {
		errs.Addf("address: %q must be host:port", o.Address)
	} else if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		errs.Addf("address: port %q must be 1 to 65535", port)
	}
	if o.Facility == "" {
		o.Facility = DefaultFacility
	}
	if o.Severity == "" {
		o.Severity = DefaultSeverity
	}
	fac, ok := facilities[o.Facility]
	if !ok {
		errs.Addf("facility: unknown facility %q (want kern, user, …, auth, authpriv, local0 … local7)", o.Facility)
	}
	sev, ok := severities[o.Severity]
	if !ok {
		errs.Addf("severity: unknown severity %q (want emerg, alert, crit, err, warning, notice, info or debug)", o.Severity)
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
		if o.Hostname == "" {
			o.Hostname = "-"
		}
	}
	if o.AppName == "" {
		o.AppName = DefaultAppName
	}
	check := func(key, v string, max int) {
		if err := headerField(v, max); err != nil {
			errs.Addf("%s: %v", key, err)
		}
	}
	check("hostname", o.Hostname, 255)
	check("app_name", o.AppName, 48)
	for k, v := range o.MsgIDs {
		if !events.Feature(k).Valid() {
			errs.Addf("msgids: unknown feature %q", k)
		}
		check("msgids."+k, v, 32)
	}
	if o.StructuredDataID != "" {
		if err := headerField(o.StructuredDataID, 32); err != nil || strings.ContainsAny(o.StructuredDataID, `= ]"`) {
			errs.Addf("structured_data_id: %q must be 1-32 printable ASCII characters without '=', ' ', ']' or '\"'", o.StructuredDataID)
		} else if !strings.Contains(o.StructuredDataID, "@") {
			errs.Addf("structured_data_id: %q must have the form name@<private enterprise number>", o.StructuredDataID)
		}
	}
	forward.NonNegative(&errs, "timeout", &o.Timeout, DefaultTimeout)
	var tlsConf *tls.Config
	if o.Network == "tls" {
		tlsConf, err = tlsConfig(o, host)
		errs.Add(err)
	} else if o.CAFile != "" || o.CertFile != "" || o.KeyFile != "" || o.ServerName != "" {
		errs.Addf("ca_file, cert_file, key_file, server_name: only with network: tls")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	s := &Sink{name: name, opts: o, pri: fac*8 + sev, tls: tlsConf, log: cmp.Or(logger, slog.New(slog.DiscardHandler))}
	s.dial = s.dialNet
	return s, nil
}

// headerField checks an RFC 5424 header field: 1 to max printable US-ASCII
// characters (33-126).
func headerField(v string, max int) error {
	if v == "" || len(v) > max {
		return fmt.Errorf("must be 1 to %d characters", max)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 33 || v[i] > 126 {
			return fmt.Errorf("%q must be printable ASCII without spaces", v)
		}
	}
	return nil
}

func tlsConfig(o Options, host string) (*tls.Config, error) {
	c, err := forward.TLSConfig(o.CAFile, o.InsecureSkipVerify)
	if err != nil {
		return nil, err
	}
	c.ServerName = o.ServerName
	if c.ServerName == "" {
		c.ServerName = host
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("cert_file, key_file: give both or neither")
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("cert_file, key_file: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// Name returns the configured name.
func (s *Sink) Name() string { return s.name }

// Close closes the connection.
func (s *Sink) Close() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn, s.bw = nil, nil
	return err
}

func (s *Sink) dialNet(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{Timeout: s.opts.Timeout, KeepAlive: 30 * time.Second}
	switch s.opts.Network {
	case "tls":
		td := &tls.Dialer{NetDialer: d, Config: s.tls}
		return td.DialContext(ctx, "tcp", s.opts.Address)
	default:
		return d.DialContext(ctx, s.opts.Network, s.opts.Address)
	}
}

// format renders one event as an RFC 5424 message (without framing).
func (s *Sink) format(b forward.Batch, ev forward.Event) []byte {
	msgid := s.opts.MsgIDs[string(b.Feature)]
	if msgid == "" {
		msgid = string(b.Feature)
		if msgid == "" {
			msgid = "-"
		}
	}
	ts := ev.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	out := make([]byte, 0, len(ev.Data)+160)
	out = append(out, '<')
	out = strconv.AppendInt(out, int64(s.pri), 10)
	out = append(out, ">1 "...)
	out = ts.UTC().AppendFormat(out, "2006-01-02T15:04:05.000000Z07:00")
	out = append(out, ' ')
	out = append(out, s.opts.Hostname...)
	out = append(out, ' ')
	out = append(out, s.opts.AppName...)
	out = append(out, " - "...) // PROCID
	out = append(out, msgid...)
	out = append(out, ' ')
	if s.opts.StructuredDataID == "" {
		out = append(out, '-')
	} else {
		out = append(out, '[')
		out = append(out, s.opts.StructuredDataID...)
		out = append(out, ` uuid="`...)
		out = appendParamValue(out, ev.UUID)
		out = append(out, `" source="`...)
		out = appendParamValue(out, b.Source)
		out = append(out, `"]`...)
	}
	out = append(out, ' ')
	return forward.AppendOneLine(out, ev.Data)
}

// appendParamValue escapes '"', '\' and ']' as RFC 5424 PARAM-VALUE wants.
func appendParamValue(out []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"', '\\', ']':
			out = append(out, '\\')
		}
		out = append(out, v[i])
	}
	return out
}

// Write sends every event of b; see the package comment for what a nil
// return promises.
func (s *Sink) Write(ctx context.Context, b forward.Batch) error {
	if s.opts.Network == "udp" {
		return s.writeUDP(ctx, b)
	}
	if s.conn != nil && !alive(s.conn) {
		s.log.Info("syslog receiver closed the connection; reconnecting", "address", s.opts.Address)
		_ = s.Close()
	}
	if s.conn == nil {
		c, err := s.dial(ctx)
		if err != nil {
			return fmt.Errorf("syslog: dial %s %s: %w", s.opts.Network, s.opts.Address, err)
		}
		s.conn, s.bw = c, bufio.NewWriterSize(c, 64<<10)
	}
	deadline := time.Now().Add(s.opts.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = s.conn.SetWriteDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = s.conn.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	var frame []byte
	for _, ev := range b.Events {
		msg := s.format(b, ev)
		frame = strconv.AppendInt(frame[:0], int64(len(msg)), 10)
		frame = append(frame, ' ')
		frame = append(frame, msg...)
		if _, err := s.bw.Write(frame); err != nil {
			return s.fail(ctx, err)
		}
	}
	if err := s.bw.Flush(); err != nil {
		return s.fail(ctx, err)
	}
	return nil
}

// fail closes the connection after a write error, so the next Write dials
// again.
func (s *Sink) fail(ctx context.Context, err error) error {
	_ = s.Close()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("syslog: write to %s %s: %w", s.opts.Network, s.opts.Address, err)
}

func (s *Sink) writeUDP(ctx context.Context, b forward.Batch) error {
	c, err := s.dial(ctx)
	if err != nil {
		return fmt.Errorf("syslog: dial udp %s: %w", s.opts.Address, err)
	}
	defer c.Close()
	_ = c.SetWriteDeadline(time.Now().Add(s.opts.Timeout))
	var rejected []forward.Rejection
	for i, ev := range b.Events {
		if err := ctx.Err(); err != nil {
			return err
		}
		msg := s.format(b, ev)
		if len(msg) > MaxUDPMessage {
			rejected = append(rejected, forward.Rejection{Index: i, Reason: fmt.Sprintf("syslog: message of %d bytes is larger than a UDP datagram (%d)", len(msg), MaxUDPMessage)})
			continue
		}
		if _, err := c.Write(msg); err != nil {
			return fmt.Errorf("syslog: write to udp %s: %w", s.opts.Address, err)
		}
	}
	if len(rejected) > 0 {
		return &forward.RejectedError{Rejected: rejected}
	}
	return nil
}
