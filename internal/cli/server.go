package cli

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/adminapi"
	"github.com/logbookhq/logbook/internal/api"
	"github.com/logbookhq/logbook/internal/console"
	"github.com/logbookhq/logbook/internal/ingest"
	"github.com/logbookhq/logbook/internal/integrity"
	"github.com/logbookhq/logbook/internal/logcap"
	"github.com/logbookhq/logbook/internal/metrics"
	"github.com/logbookhq/logbook/internal/sandbox"
	"github.com/logbookhq/logbook/internal/scorecard"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/token"
)

// ServerOptions configure StartServer. Store is required.
type ServerOptions struct {
	Store store.Store
	// Listen is the address to listen on; "127.0.0.1:0" picks a free port.
	Listen string
	// PublicURL is the URL clients use; its host[:port] is the tokens'
	// audience. Empty: derived from the listener.
	PublicURL string
	// EarlierPublicURLs are public URLs the server had before: tokens
	// whose aud is one of theirs are accepted too.
	EarlierPublicURLs []string
	// TLS, when set, serves HTTPS.
	TLS *tls.Config
	// HSTS is the max-age of the Strict-Transport-Security header on HTTPS
	// responses: DefaultHSTS when zero, no header when negative. It is
	// never sent to the host name localhost, where it would pin every
	// local server, on any port, to HTTPS.
	HSTS time.Duration
	// Retention bounds what the API serves; api.DefaultRetention when zero.
	Retention time.Duration
	Logger    *slog.Logger
	// Now returns the time; time.Now when nil.
	Now func() time.Time
	// ConsoleListen, when set, serves the web console on its own listener
	// at this address instead of under /console/ on Listen.
	ConsoleListen string
	// IngestMaxBody bounds an ingestion request's body;
	// ingest.DefaultMaxBody when zero.
	IngestMaxBody int64
	// IngestMaxInFlight bounds the bytes of ingestion bodies held at once;
	// ingest.DefaultMaxInFlight when zero.
	IngestMaxInFlight int64
	// Sandbox configures rate limits, scenarios and scorecards.
	Sandbox SandboxOptions
	// AccessLog logs one line per request to Logger (see withRequests).
	AccessLog bool
	// KEK, when set, encrypts signing keys at rest (token.Config.KEK).
	KEK *token.KEK
	// ShutdownTimeout bounds how long Close waits for requests in flight
	// (see Close); DefaultShutdownTimeout when zero.
	ShutdownTimeout time.Duration
	// MetricsListen, when set, serves GET /metrics on its own plain-HTTP
	// listener at this address (no host: 127.0.0.1) instead of on Listen.
	MetricsListen string
	// ConsoleSessions counts open console sessions for the
	// logbook_console_sessions gauge; the store's count when nil.
	ConsoleSessions func(context.Context) (int, error)
}

// Server is a running Logbook server.
type Server struct {
	// URL is the public URL, Audience the aud of its tokens.
	URL      string
	Audience string
	// ListenURL is the URL of the listener itself (127.0.0.1 for an
	// unspecified host), which may differ from URL.
	ListenURL string
	Store     store.Store
	Tokens    *token.Service
	// Heads signs the streams' tree heads and answers the integrity
	// endpoints.
	Heads *integrity.Signer
	// Admin is the admin domain service the admin API (/admin/api/v1) uses.
	Admin   *admin.Service
	Handler http.Handler
	// ConsoleURL is where the web console is: URL + "/console/", or its own
	// listener's.
	ConsoleURL string

	// Scenarios runs sandbox scenarios; Scorecards tracks connectors.
	Scenarios  *sandbox.Sandbox
	Scorecards *scorecard.Tracker
	// MetricsURL is where the Prometheus metrics are: URL + "/metrics",
	// or the metrics listener's.
	MetricsURL string

	sandbox    *sandboxParts
	console    http.Handler
	consoleSrv *http.Server
	consoleOwn bool // the console has its own listener
	metrics    *metrics.Metrics
	metricsSrv *http.Server
	srv        *http.Server
	done       chan error
	log        *slog.Logger
	closeOnce  sync.Once
	closeErr   error

	// draining is set when Close begins: /readyz answers 503.
	draining atomic.Bool
	// requests counts running handlers; cancelRequests cancels their
	// contexts when the shutdown timeout cuts them off.
	requests        requestCounter
	cancelRequests  context.CancelFunc
	shutdownTimeout time.Duration
}

// HSTS max-ages. A certificate the operator brings (--tls-cert) is meant to
// last: a year, as HSTS preload lists ask. The local CA of --tls lives in
// the data directory and goes with it; a browser that pinned the host would
// refuse the next CA's certificate without a way to click through, so its
// pin lasts a day.
const (
	DefaultHSTS = 365 * 24 * time.Hour
	LocalCAHSTS = 24 * time.Hour
)

// StartServer listens and serves the Events API until Close.
func StartServer(ctx context.Context, o ServerOptions) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	// Requests reach the log through many packages; whatever one of them
	// logs unbounded is capped here (each caps its own values too).
	o.Logger = slog.New(logcap.Handler(o.Logger.Handler()))
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	publicURL := o.PublicURL
	if publicURL == "" {
		publicURL = defaultPublicURL(ln.Addr(), o.TLS != nil)
	}
	aud, err := audienceOf(publicURL)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s, err := newServer(ctx, o, publicURL, aud)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.ListenURL = defaultPublicURL(ln.Addr(), o.TLS != nil)
	s.shutdownTimeout = o.ShutdownTimeout
	if s.shutdownTimeout <= 0 {
		s.shutdownTimeout = DefaultShutdownTimeout
	}
	// Requests do not get ctx, which ends when shutdown begins: they get a
	// context of their own that Close cancels only when the shutdown
	// timeout cuts them off.
	reqCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	s.cancelRequests = cancelRequests
	baseContext := func(net.Listener) context.Context { return reqCtx }
	s.srv = newHTTPServer(s.requests.wrap(withHSTS(s.recordRequests(o, s.Handler), o.HSTS)), baseContext, o.TLS, o.Logger)
	s.srv.RegisterOnShutdown(func() {
		// Called once the listeners are closed.
		s.log.Info("shutting down: no longer accepting connections; waiting for requests in flight",
			"in_flight", s.requests.n.Load(), "timeout", s.shutdownTimeout.String())
	})
	if err := s.startConsole(o, baseContext); err != nil {
		cancelRequests()
		ln.Close()
		return nil, err
	}
	if err := s.startMetrics(o); err != nil {
		ln.Close()
		s.closeConsole()
		s.sandbox.close(s.log)
		return nil, err
	}
	serve(s.srv, ln, func(err error) { s.done <- err })
	return s, nil
}

// newHTTPServer returns the http.Server of one of the server's listeners:
// h with the timeouts every listener has, request contexts from
// baseContext (nil: the default), HTTPS when tlsConfig is set, and its
// own errors logged at warn.
func newHTTPServer(h http.Handler, baseContext func(net.Listener) context.Context, tlsConfig *tls.Config, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		BaseContext:       baseContext,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConfig,
	}
}

// serve runs srv on ln, over TLS when srv.TLSConfig is set, in a
// goroutine, and calls stopped with the error it stopped with: nil after
// Shutdown or Close.
func serve(srv *http.Server, ln net.Listener, stopped func(error)) {
	go func() {
		var err error
		if srv.TLSConfig != nil {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		stopped(err)
	}()
}

// listenLoopbackDefault listens on addr, on loopback when addr has no host
// (":9090").
func listenLoopbackDefault(addr string) (net.Listener, error) {
	if host, port, err := net.SplitHostPort(addr); err == nil && host == "" {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	return net.Listen("tcp", addr)
}

// logStop returns a serve callback that logs the error a listener stopped
// with, if any, under the message what.
func (s *Server) logStop(what string) func(error) {
	return func(err error) {
		if err != nil {
			s.log.Error(what, "err", err)
		}
	}
}

func newServer(ctx context.Context, o ServerOptions, publicURL, aud string) (*Server, error) {
	var earlier []string
	for _, u := range o.EarlierPublicURLs {
		if a, err := audienceOf(u); err == nil && a != aud {
			earlier = append(earlier, a)
		}
	}
	tokens := token.New(o.Store, aud, token.Config{Now: o.Now, Logger: o.Logger, AlsoAccept: earlier, KEK: o.KEK})
	if err := tokens.EnsureKey(ctx); err != nil {
		return nil, kekHint(err)
	}
	heads := integrity.NewSigner(o.Store, integrity.SignerConfig{KEK: o.KEK, Now: o.Now, Logger: o.Logger})
	if err := heads.EnsureKey(ctx); err != nil {
		return nil, fmt.Errorf("tree key: %w", kekHint(err))
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	key, err := o.Store.InitSetting(ctx, "cursor_key", key)
	if err != nil {
		return nil, fmt.Errorf("cursor key: %w", err)
	}
	sb, err := newSandboxParts(ctx, o, tokens)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	var s *Server // set below, before any request arrives
	// The console is made first: the metrics count its sessions.
	adm := admin.New(o.Store, tokens, admin.Config{Now: o.Now, Logger: o.Logger})
	consoleHandler, err := console.NewHandler(console.Config{Admin: adm, Store: o.Store, PublicURL: publicURL,
		Scorecard: sb.scorecard(o.Store, retentionOr(o.Retention), nowOr(o.Now)), ServeWindow: o.Retention, Now: o.Now, Logger: o.Logger})
	if err != nil {
		sb.close(o.Logger)
		return nil, err
	}
	// Sessions live in the store: the count is of every replica's.
	sessions := console.OpenSessions(o.Store, nowOr(o.Now))
	if o.ConsoleSessions != nil {
		sessions = o.ConsoleSessions
	}
	m := newMetrics(o, sessions)
	// The request path reads and appends through m.Store, which times it.
	timed := m.Store(o.Store)
	apiHandler := api.NewHandler(api.Config{
		Store: timed, Tokens: tokens, CursorKey: key,
		Retention: o.Retention, Now: o.Now, Logger: o.Logger, Integrity: heads,
		AccountWindow: func(ctx context.Context, account string) (time.Duration, error) {
			a, err := o.Store.Account(ctx, account)
			return a.ServeWindow, err
		},
		Guard: noteAccount(sb.guard()),
		// Only a running scenario changes events as requests arrive; the
		// rate limiter and the scorecard may run after the page is read.
		GuardFirst: sb.sandbox.Running,
		Observe: func(call api.Call, served api.Served) {
			sb.observe(call, served)
			m.Served(call.Version, call.Feature, served.Items)
		},
		Failed: func(r *http.Request, status int, err error) {
			if status == http.StatusUnauthorized {
				noteReason(r, metrics.UnauthorizedReason(err))
			}
		},
	})
	mux.Handle("/api/", sb.sandbox.Middleware(apiHandler))
	mux.Handle(ingest.Prefix, ingest.NewHandler(ingest.Config{Store: timed, MaxBody: o.IngestMaxBody, MaxInFlight: o.IngestMaxInFlight, Now: o.Now, Logger: o.Logger,
		Observe: func(b ingest.Batch) { m.Ingested(b.Feature, b.Accepted, b.Duplicates, b.Size, b.Refused) }}))
	mux.Handle(adminapi.Prefix+"/", adminapi.NewHandler(adminapi.Config{Admin: adm, Logger: o.Logger,
		Scenarios: sb.sandbox, Scorecard: sb.scorecard(o.Store, retentionOr(o.Retention), nowOr(o.Now))}))
	if o.ConsoleListen == "" {
		mux.Handle(console.DefaultPrefix+"/", consoleHandler)
		mux.Handle("GET "+console.DefaultPrefix, consoleHandler)
	}
	// / itself leads to the console; every other unknown path keeps Go's
	// plain "404 page not found", as 1Password's server answers (spec §9).
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, s.consoleHome(), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /readyz", unlessDraining(func() bool { return s.draining.Load() }, readyHandler(o.Store, o.Logger)))
	if o.MetricsListen == "" {
		mux.Handle("GET /metrics", m.Handler())
	}
	s = &Server{MetricsURL: publicURL + "/metrics", metrics: m, URL: publicURL, Audience: aud, Store: o.Store, Tokens: tokens, Heads: heads, Admin: adm, Handler: mux,
		ConsoleURL: publicURL + console.DefaultPrefix + "/", console: consoleHandler,
		Scenarios: sb.sandbox, Scorecards: sb.tracker, sandbox: sb, consoleOwn: o.ConsoleListen != "",
		done: make(chan error, 1), log: o.Logger}
	return s, nil
}

// recordRequests wraps h with the server's metrics, and with the access
// log when o asks for it.
func (s *Server) recordRequests(o ServerOptions, h http.Handler) http.Handler {
	var log *slog.Logger
	if o.AccessLog {
		log = o.Logger
	}
	return withRequests(h, log, s.metrics)
}

// consoleHome is where GET / sends a browser: /console/ on this listener,
// or the console's own listener.
func (s *Server) consoleHome() string {
	if s.consoleOwn {
		return s.ConsoleURL
	}
	return console.DefaultPrefix + "/"
}

// withHSTS adds Strict-Transport-Security to the responses of requests that
// came over TLS (see ServerOptions.HSTS).
func withHSTS(h http.Handler, maxAge time.Duration) http.Handler {
	if maxAge == 0 {
		maxAge = DefaultHSTS
	}
	if maxAge < time.Second {
		return h
	}
	value := "max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && !isLocalhost(r.Host) {
			w.Header().Set("Strict-Transport-Security", value)
		}
		h.ServeHTTP(w, r)
	})
}

// isLocalhost reports whether host (with or without a port) is localhost
// or a name under it. IP addresses are not: browsers ignore HSTS for them.
func isLocalhost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// Done yields the serve loop's error if it stops by itself.
func (s *Server) Done() <-chan error { return s.done }

func defaultPublicURL(addr net.Addr, https bool) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http"
	if https {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// audienceOf returns the host[:port] of a public URL: what goes into aud,
// and what clients prefix with https:// to find the server.
func audienceOf(publicURL string) (string, error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("--public-url: %q is not an http(s) URL with a host", publicURL)
	}
	return u.Host, nil
}

// startConsole serves the console on its own listener when
// o.ConsoleListen is set (a missing host means loopback); the listener
// stops with the server.
func (s *Server) startConsole(o ServerOptions, baseContext func(net.Listener) context.Context) error {
	if o.ConsoleListen == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle(console.DefaultPrefix+"/", s.console)
	mux.Handle("GET "+console.DefaultPrefix, s.console)
	mux.Handle("GET /{$}", http.RedirectHandler(console.DefaultPrefix+"/", http.StatusSeeOther))
	srv := newHTTPServer(s.requests.wrap(withHSTS(s.recordRequests(o, mux), o.HSTS)), baseContext, o.TLS, o.Logger)
	u, err := s.serveOwn(srv, o.ConsoleListen, "console listen", "console server")
	if err != nil {
		return err
	}
	s.consoleSrv, s.ConsoleURL = srv, u+console.DefaultPrefix+"/"
	return nil
}

// serveOwn serves srv on a listener of its own at addr (a missing host
// means loopback) until the server stops, and returns the listener's
// URL. Listening errors start with listenErr; what is the message that
// logs the error srv stops with.
func (s *Server) serveOwn(srv *http.Server, addr, listenErr, what string) (string, error) {
	ln, err := listenLoopbackDefault(addr)
	if err != nil {
		return "", fmt.Errorf("%s: %w", listenErr, err)
	}
	// Read TLSConfig before serving: Serve sets up HTTP/2 in it.
	u := defaultPublicURL(ln.Addr(), srv.TLSConfig != nil)
	serve(srv, ln, s.logStop(what))
	return u, nil
}

func retentionOr(d time.Duration) time.Duration {
	if d <= 0 {
		return api.DefaultRetention
	}
	return d
}

func nowOr(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

// newMetrics makes the server's metrics; sessions counts console sessions.
func newMetrics(o ServerOptions, sessions func(context.Context) (int, error)) *metrics.Metrics {
	backend := "other"
	switch o.Store.(type) {
	case *sqlite.DB:
		backend = "sqlite"
	case *postgres.DB:
		backend = "postgres"
	}
	b := readBuildInfo()
	return metrics.New(metrics.Options{Backend: backend, ConsoleSessions: sessions, Logger: o.Logger,
		Build: metrics.Build{Version: b.Version, Revision: b.Revision, GoVersion: b.Go}})
}

// startMetrics serves GET /metrics on its own plain-HTTP listener when
// o.MetricsListen is set (a missing host means loopback); the listener
// stops with the server.
func (s *Server) startMetrics(o ServerOptions) error {
	if o.MetricsListen == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	srv := newHTTPServer(mux, nil, nil, o.Logger)
	u, err := s.serveOwn(srv, o.MetricsListen, "--metrics-listen", "metrics server")
	if err != nil {
		return err
	}
	s.metricsSrv, s.MetricsURL = srv, u+"/metrics"
	return nil
}

// closeConsole stops the console's own listener, if any, when the server
// fails to start.
func (s *Server) closeConsole() {
	if s.consoleSrv != nil {
		_ = s.consoleSrv.Close()
	}
}
