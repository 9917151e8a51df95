package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/logbookhq/logbook/internal/api"
	"github.com/logbookhq/logbook/internal/localca"
)

const serveUsage = `
Usage: logbook serve [flags]

Runs the Events API: POST /api/v1|v2/{signinattempts,itemusages,auditevents},
GET /api/auth/introspect and /api/v2/auth/introspect, exactly as 1Password
serves them, so existing connectors work against it unchanged.

On an empty data directory it creates the database and, unless --no-demo, a
demo account with an integration, a token with all three features (printed
once and saved with mode 0600 in <data>/demo.token) and several days of
realistic events, then prints a curl command to try.

Examples:
  logbook serve                                  # http://127.0.0.1:8080, data in ./data
  logbook serve --tls                            # HTTPS with a local CA in ./data/ca.pem
  logbook serve --listen 0.0.0.0:8443 --tls --public-url https://events.example.test:8443
`

func init() {
	extraCommands = append(extraCommands, command{"serve", "run the Events API server", runServe})
}

type serveFlags struct {
	store     storeFlags
	listen    string
	publicURL string
	tls       bool
	tlsCert   string
	tlsKey    string
	noDemo    bool
	retention time.Duration
	logLevel  string
	logFormat string
	// consoleListen is the web console's own address; empty: /console/
	// on --listen.
	consoleListen string
}

func runServe(ctx context.Context, env Env, args []string) error {
	var f serveFlags
	fs := newFlagSet(env, "serve", serveUsage)
	f.store.register(fs)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "`address` to listen on")
	fs.StringVar(&f.publicURL, "public-url", "", "`URL` clients reach the server at; its host:port goes into tokens' aud (default: from --listen)")
	fs.BoolVar(&f.tls, "tls", false, "serve HTTPS with a certificate from a local CA made in the data directory")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate `file` (PEM; with --tls-key)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "private key `file` for --tls-cert")
	fs.BoolVar(&f.noDemo, "no-demo", false, "do not create the demo account on an empty database")
	fs.BoolVar(&f.store.noMigrate, "no-migrate", false, "do not apply pending database migrations at start (run \"logbook migrate\" first)")
	fs.DurationVar(&f.retention, "retention", api.DefaultRetention, "how far back the API serves events; older start_time is clamped")
	fs.StringVar(&f.logLevel, "log-level", "info", "log `level`: debug, info, warn, error")
	fs.StringVar(&f.logFormat, "log-format", "text", "log `format`: text or json")
	var sb sandboxFlags
	sb.register(fs)
	fs.StringVar(&f.consoleListen, "console-listen", "", "serve the web console on its own `address` instead of under /console/ (no host: 127.0.0.1)")
	if err := parseFlags(fs, env, args, false); err != nil {
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
	if f.retention < time.Hour {
		return usagef("--retention: %s is shorter than an hour", f.retention)
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

	st, err := f.store.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()

	opts := ServerOptions{IngestMaxBody: sbo.IngestMaxBody, IngestMaxInFlight: sbo.IngestMaxInFlight, Sandbox: sbo.Sandbox, Store: st, Listen: f.listen, PublicURL: f.publicURL, Retention: f.retention, Logger: log,
		ConsoleListen: f.consoleListen}
	var caPath string
	switch {
	case f.tls:
		hosts := []string{}
		if f.publicURL != "" {
			u, _ := url.Parse(f.publicURL)
			hosts = append(hosts, u.Hostname())
		}
		if h, _, err := net.SplitHostPort(f.listen); err == nil && h != "" {
			hosts = append(hosts, h)
		}
		if opts.TLS, caPath, err = localca.Ensure(f.store.data, hosts); err != nil {
			return fmt.Errorf("--tls: %w", err)
		}
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
	if err := writeFileAtomic(filepath.Join(f.store.data, "public-url"), []byte(srv.URL+"\n"), 0o600); err != nil {
		log.Warn("could not record the public URL", "err", err)
	}

	var demo *DemoInfo
	if !f.noDemo {
		if demo, err = seedDemo(ctx, srv, f.store.data, time.Now()); err != nil {
			srv.Close()
			return fmt.Errorf("demo: %w", err)
		}
	}
	printBanner(env, srv, f.store.data, caPath, demo)
	if err := reportScenario(env, srv, f.store.data); err != nil {
		log.Warn("scenario", "err", err)
	}
	log.Info("serving", "url", srv.URL, "aud", srv.Audience)

	go retentionLoop(ctx, srv, f.retention, log)

	select {
	case <-ctx.Done():
		log.Info("shutting down")
		return srv.Close()
	case err := <-srv.Done():
		return err
	}
}

func printBanner(env Env, srv *Server, data, caPath string, demo *DemoInfo) {
	w := env.Stderr
	fmt.Fprintf(w, "Logbook is serving the Events API at %s\n", srv.URL)
	fmt.Fprintf(w, "The web console is at %s\n", srv.ConsoleURL)
	curlOpts := ""
	if caPath != "" {
		fmt.Fprintf(w, "HTTPS certificates come from a local CA: export SSL_CERT_FILE=%s\n", caPath)
		curlOpts = " --cacert " + shellQuote(caPath)
	}
	if demo == nil {
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
		curlOpts, srv.URL, tokenFile)
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

// retentionLoop drops events older than the retention once an hour.
func retentionLoop(ctx context.Context, srv *Server, retention time.Duration, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := srv.Store.DeleteEventsBefore(ctx, time.Now().Add(-retention))
		switch {
		case errors.Is(err, context.Canceled):
			return
		case err != nil:
			log.Error("retention", "err", err)
		case n > 0:
			log.Info("retention dropped old events", "events", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
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
	b, err := os.ReadFile(filepath.Join(data, "public-url"))
	if err != nil || strings.TrimSpace(string(b)) == "" {
		return "http://127.0.0.1:8080"
	}
	return strings.TrimSpace(string(b))
}
