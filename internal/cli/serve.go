package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/logbookhq/logbook/internal/localca"
)

const serveUsage = `
Usage: logbook serve [flags]

Runs the Events API: POST /api/v1|v2/{signinattempts,itemusages,auditevents},
GET /api/auth/introspect and /api/v2/auth/introspect, exactly as 1Password
serves them, so existing connectors work against it unchanged.

On an empty data directory it creates the database and a demo account with
an integration, a token with all three features (printed once and saved with
mode 0600 in <data>/demo.token) and several days of realistic events, then
prints a curl command to try. The demo is not made with --no-demo, nor when
--listen is not a loopback address (its token never expires) unless --demo;
serve then prints the commands that make a first account and token.

The public URL (--public-url, or on the first start the listener's) is
recorded in <data>/public-url and kept: --listen does not change it, so
tokens keep working. Changing --public-url is announced at start; tokens
issued for earlier public URLs keep working (see docs/admin.md).

The API serves the last --serve-window of events (120 days by default, as
1Password); older events stay in the store, only not served. Nothing is
ever deleted unless --delete-after is given.

GET /metrics serves Prometheus metrics (requests, 401s and 429s by reason,
events served and ingested, store latency; see docs/operations.md) on
--listen, or on --metrics-listen alone when that is given.

Every flag can also be set in a YAML file given with --config (or
LOGBOOK_CONFIG), one key per flag: "listen: 127.0.0.1:8080". Command-line
flags win over LOGBOOK_* variables, which win over the file.
--print-config shows what is in effect and where each value came from.

Examples:
  logbook serve                                  # http://127.0.0.1:8080, data in ./data
  logbook serve --config /etc/logbook/logbook.yaml
  logbook serve --tls                            # HTTPS with a local CA in ./data/ca.pem
  logbook serve --listen 0.0.0.0:8443 --tls --public-url https://events.example.test:8443
`

type serveFlags struct {
	store     storeFlags
	listen    string
	publicURL string
	tls       bool
	tlsCert   string
	tlsKey    string
	noDemo    bool
	demo      bool
	retention retentionFlags
	logLevel  string
	logFormat string
	// consoleListen is the web console's own address; empty: /console/
	// on --listen.
	consoleListen string
	accessLog     bool
	kek           kekFlags
	shutdown      time.Duration
	// metricsListen is /metrics' own address; empty: on --listen.
	metricsListen string
	// headEvery and headInterval: a stream's tree head is signed once it
	// grew by headEvery events, or headInterval after its last one.
	headEvery    int64
	headInterval time.Duration
}

func runServe(ctx context.Context, env Env, args []string) error {
	var f serveFlags
	fs := newFlagSet(env, "serve", serveUsage)
	f.store.register(fs)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "`address` to listen on")
	fs.StringVar(&f.publicURL, "public-url", "", "`URL` clients reach the server at; its host:port goes into tokens' aud. Recorded in <data>/public-url and kept by later starts; tokens for earlier public URLs stay valid (default: the recorded one, or on the first start the listener's)")
	fs.BoolVar(&f.tls, "tls", false, "serve HTTPS with a certificate from a local CA made in the data directory; responses carry Strict-Transport-Security for a day (not to localhost)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate `file` (PEM; with --tls-key); responses carry Strict-Transport-Security for a year (not to localhost)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "private key `file` for --tls-cert")
	fs.BoolVar(&f.noDemo, "no-demo", false, "do not create the demo account on an empty database")
	fs.BoolVar(&f.demo, "demo", false, "create the demo account on an empty database even when --listen is not a loopback address (it is not made there by default: its token never expires)")
	fs.BoolVar(&f.store.noMigrate, "no-migrate", false, "do not apply pending database migrations at start (run \"logbook migrate\" first)")
	f.retention.register(fs)
	fs.StringVar(&f.logLevel, "log-level", "info", "log `level`: debug, info, warn, error")
	fs.StringVar(&f.logFormat, "log-format", "text", "log `format`: text or json")
	var sb sandboxFlags
	sb.register(fs)
	fs.BoolVar(&f.accessLog, "access-log", false, "log one line per request at info level: method, route pattern (not the path), status, response bytes, duration and, for Events API requests, the token's account UUID; never the query string, headers or body, so never a token, cursor or password")
	f.kek.register(fs)
	fs.DurationVar(&f.shutdown, "shutdown-timeout", DefaultShutdownTimeout, "on SIGTERM or Ctrl-C, stop accepting connections at once (GET /readyz answers 503 on connections still open), "+
		"let requests in flight finish for up to this `duration`, then exit 0; requests still running at the bound are cut off (connections closed, their store work cancelled, "+
		"so an ingest batch cut off is not stored at all) and serve exits 1 saying how many. A second signal exits at once")
	fs.StringVar(&f.consoleListen, "console-listen", "", "serve the web console on its own `address` instead of under /console/ (no host: 127.0.0.1)")
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "serve the Prometheus metrics (GET /metrics) on their own plain-HTTP listener at this `address` (no host: 127.0.0.1), and then not on --listen (default: GET /metrics on --listen, without authentication)")
	fs.Int64Var(&f.headEvery, "tree-head-every", 10000, "sign a stream's tree head (docs/integrity.md) once it grew by this many `events` since its last signed head")
	fs.DurationVar(&f.headInterval, "tree-head-interval", 10*time.Minute, "sign a stream's tree head when it grew at all and its last signed head is older than this `duration`; 0 signs none (only \"logbook verify --sign\" does)")
	var cfg configFile
	cfg.register(fs)
	if err := cfg.parse(fs, env, args); err != nil {
		return err
	}
	var sbo ServerOptions
	if err := sb.apply(&sbo); err != nil {
		return err
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usagef("--tls-cert and --tls-key go together")
	}
	if f.tls && f.tlsCert != "" {
		return usagef("--tls makes its own certificate; drop it or --tls-cert/--tls-key")
	}
	window, deleteAfter, err := f.retention.resolve(env)
	if err != nil {
		return err
	}
	if f.demo && f.noDemo {
		return usagef("--demo and --no-demo contradict each other; give one")
	}
	if f.metricsListen != "" {
		_, port, err := net.SplitHostPort(f.metricsListen)
		if err != nil {
			return usagef("--metrics-listen: %q is not an address such as :9464 or 10.0.0.5:9464 (%v)", f.metricsListen, err)
		}
		if f.metricsListen == f.listen && port != "0" {
			return usagef("--metrics-listen: %s is --listen's address; give another port, or leave it out to serve /metrics on --listen", f.metricsListen)
		}
	}
	if f.publicURL != "" {
		if _, err := audienceOf(f.publicURL); err != nil {
			return usagef("%v", err)
		}
	}
	log, err := newLogger(env, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	if f.headEvery < 1 || f.headInterval < 0 {
		return usagef("--tree-head-every must be at least 1 and --tree-head-interval not negative")
	}
	if f.shutdown <= 0 {
		return usagef("--shutdown-timeout: %s is not a positive duration (such as 20s)", f.shutdown)
	}
	if cfg.print {
		return cfg.write(env.Stdout, fs, "serve")
	}
	kek, err := f.kek.load(env)
	if err != nil {
		return err
	}

	st, err := f.store.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()

	// The public URL is the one recorded in <data>/public-url: --listen
	// never changes it, only --public-url does.
	pub, err := choosePublicURL(f.store.data, f.publicURL, f.tls || f.tlsCert != "")
	if err != nil {
		return err
	}
	opts := ServerOptions{IngestMaxBody: sbo.IngestMaxBody, IngestMaxInFlight: sbo.IngestMaxInFlight, Sandbox: sbo.Sandbox, Store: st, Listen: f.listen,
		PublicURL: pub.url, EarlierPublicURLs: pub.earlier, Retention: window, Logger: log,
		ConsoleListen: f.consoleListen, AccessLog: f.accessLog, KEK: kek, ShutdownTimeout: f.shutdown,
		MetricsListen: f.metricsListen}
	var caPath string
	switch {
	case f.tls:
		hosts := []string{}
		if pub.url != "" {
			u, _ := url.Parse(pub.url)
			hosts = append(hosts, u.Hostname())
		}
		if h, _, err := net.SplitHostPort(f.listen); err == nil && h != "" {
			hosts = append(hosts, h)
		}
		if opts.TLS, caPath, err = localca.Ensure(f.store.data, hosts); err != nil {
			return fmt.Errorf("--tls: %w", err)
		}
		opts.HSTS = LocalCAHSTS
	case f.tlsCert != "":
		if opts.TLS, err = loadTLS(f.tlsCert, f.tlsKey); err != nil {
			return err
		}
	}
	srv, err := StartServer(ctx, opts)
	if err != nil {
		return err
	}
	// token issue reads this to put the same aud into tokens it makes.
	if err := writePublicURLs(f.store.data, srv.URL, pub.earlier); err != nil {
		log.Warn("could not record the public URL", "err", err)
	}
	if pub.changedFrom != "" {
		warnPublicURLChange(ctx, st, f.store.data, pub.changedFrom, srv.URL, log)
	}

	accounts, err := st.Accounts(ctx)
	if err != nil {
		srv.Close()
		return err
	}
	var demo *DemoInfo
	loopback := isLoopback(f.listen)
	switch {
	case f.noDemo:
	case !loopback && !f.demo:
		if len(accounts) == 0 {
			fmt.Fprintf(env.Stderr, "No demo account: --listen %s is not a loopback address, and the demo's token never expires. Give --demo to make it anyway.\n", f.listen)
		}
	default:
		if demo, err = SeedDemo(ctx, srv, f.store.data, time.Now()); err != nil {
			srv.Close()
			return fmt.Errorf("demo: %w", err)
		}
	}
	printBanner(env, srv, f.store, caPath, demo, demo == nil && len(accounts) == 0)
	if err := reportScenario(env, srv, f.store.data); err != nil {
		log.Warn("scenario", "err", err)
	}
	log.Info("serving", "url", srv.URL, "aud", srv.Audience)

	reportServeWindow(ctx, st, time.Now(), window, log)
	if deleteAfter > 0 {
		log.Warn("events older than --delete-after are deleted at start and every hour", "delete_after", formatSpan(deleteAfter))
		go deletionLoop(ctx, st, deleteAfter, log, srv.metrics)
	}
	if f.headInterval > 0 {
		go treeHeadLoop(ctx, srv.Heads, f.headEvery, f.headInterval, log)
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down")
		return srv.Close()
	case err := <-srv.Done():
		return err
	}
}

// printBanner tells where the server is, how to try it, and, on a server
// with no account (nextSteps), what to do first.
func printBanner(env Env, srv *Server, sf storeFlags, caPath string, demo *DemoInfo, nextSteps bool) {
	w := env.Stderr
	reach := reachableURL(srv)
	fmt.Fprintf(w, "Logbook is serving the Events API at %s\n", reach)
	if reach != srv.URL {
		fmt.Fprintf(w, "Its public URL, whose host:port is its tokens' aud, stays %s (recorded in %s); --listen does not change it, --public-url does.\n",
			srv.URL, filepath.Join(sf.data, "public-url"))
	}
	fmt.Fprintf(w, "The web console is at %s\n", srv.ConsoleURL)
	fmt.Fprintf(w, "Prometheus metrics are at %s\n", srv.MetricsURL)
	curlOpts := ""
	if caPath != "" {
		fmt.Fprintf(w, "HTTPS certificates come from a local CA: export SSL_CERT_FILE=%s\n", caPath)
		curlOpts = " --cacert " + shellQuote(caPath)
	}
	if demo == nil {
		if nextSteps {
			where := ""
			if sf.data != "./data" {
				where += " --data " + shellQuote(sf.data)
			}
			if sf.db != "" {
				where += " --db URL"
			}
			fmt.Fprintf(w, "\nThere is no account yet. Next, in another terminal:\n\n"+
				"  logbook account create%s --name NAME --owner-email EMAIL\n"+
				"  logbook token issue%s --name NAME --save token.txt\n\n"+
				"token issue makes an integration \"Logbook CLI\" for the token (or give --integration, made with\n"+
				"logbook integration create). Then try:\n\n"+
				"  curl -s%s -X POST %s/api/v2/auditevents -H \"Authorization: Bearer $(cat token.txt)\" -d '{\"limit\":5}'\n\n",
				where, where, curlOpts, reach)
			return
		}
		fmt.Fprintln(w)
		return
	}
	tokenFile := shellQuote(demo.TokenFile)
	if demo.Token != "" {
		fmt.Fprintf(w, "\nDemo account %q: %d events. Its token, shown once and saved in %s:\n\n%s\n\n",
			demo.Account, demo.Events, demo.TokenFile, demo.Token)
	} else {
		fmt.Fprintf(w, "\nDemo account %q. Its token is in %s.\n", demo.Account, demo.TokenFile)
	}
	fmt.Fprintf(w, "Try it:\n\n  curl -s%s -X POST %s/api/v2/auditevents \\\n    -H \"Authorization: Bearer $(cat %s)\" \\\n    -d '{\"limit\":5,\"start_time\":\"2020-01-01T00:00:00Z\"}'\n\n",
		curlOpts, reach, tokenFile)
	switch {
	case demo.Password != "":
		fmt.Fprintf(w, "Sign in to the web console as %s with this password, shown once and saved in %s:\n\n  %s\n\n",
			demo.Owner, demo.PasswordFile, demo.Password)
	case demo.PasswordFile != "":
		fmt.Fprintf(w, "Sign in to the web console as %s; the password is in %s.\n\n", demo.Owner, demo.PasswordFile)
	}
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func loadTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, usagef("--tls-cert/--tls-key: %v", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

func newLogger(env Env, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level: %q is not debug, info, warn or error", level)
	}
	o := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(env.Stderr, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(env.Stderr, o)), nil
	}
	return nil, usagef("--log-format: %q is not text or json", format)
}

// readPublicURL returns the public URL the last serve recorded in data, or
// the default one.
func readPublicURL(data string) string {
	if u, _ := readPublicURLs(data); u != "" {
		return u
	}
	return "http://127.0.0.1:8080"
}
