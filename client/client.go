package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
)

// DefaultUserAgent is sent when no WithUserAgent option is given.
const DefaultUserAgent = "logbook-client/1"

// maxBody bounds a reply body: a page of 1,000 large events is a few MB.
const maxBody = 64 << 20

// Client calls one Events API with one token. It is safe for concurrent
// use.
type Client struct {
	base      *url.URL
	token     string
	http      *http.Client
	userAgent string
	version   int
}

type options struct {
	httpClient *http.Client
	proxy      *url.URL
	roots      []*x509.Certificate
	caFiles    []string
	userAgent  string
	version    int
}

// Option configures a Client.
type Option func(*options) error

// WithHTTPClient makes the client send requests with hc. Combined with
// WithProxy or WithRootCA*, hc's transport must be nil or an
// *http.Transport (it is cloned, not changed).
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil client")
		}
		o.httpClient = hc
		return nil
	}
}

// WithProxy sends every request through the proxy at rawURL
// (http://host:port, https://… or socks5://…). Without it the client uses
// the HTTPS_PROXY/NO_PROXY environment, as net/http does.
func WithProxy(rawURL string) Option {
	return func(o *options) error {
		u, err := url.Parse(rawURL)
		if err != nil || u.Host == "" {
			return fmt.Errorf("proxy URL %q: want scheme://host:port", rawURL)
		}
		switch u.Scheme {
		case "http", "https", "socks5", "socks5h":
		default:
			return fmt.Errorf("proxy URL %q: scheme must be http, https or socks5", rawURL)
		}
		o.proxy = u
		return nil
	}
}

// WithRootCAFile trusts the PEM certificates in path in addition to the
// system's roots.
func WithRootCAFile(path string) Option {
	return func(o *options) error {
		o.caFiles = append(o.caFiles, path)
		return nil
	}
}

// WithRootCAs trusts certs in addition to the system's roots.
func WithRootCAs(certs ...*x509.Certificate) Option {
	return func(o *options) error {
		o.roots = append(o.roots, certs...)
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(o *options) error {
		o.userAgent = ua
		return nil
	}
}

// WithAPIVersion chooses the /api/v1 or /api/v2 endpoints (default 2).
// Version 1 serves the v1 renderings of events and v1 introspection.
// Version 3 reads audit events from the v3 beta through RawPage and
// RawPageInto, which present its pages as cursor pages (v3.go), and
// everything else from v2.
func WithAPIVersion(v int) Option {
	return func(o *options) error {
		if v < 1 || v > 3 {
			return fmt.Errorf("API version %d: want 1, 2 or 3", v)
		}
		o.version = v
		return nil
	}
}

// New returns a client for the Events API at baseURL (such as
// "https://events.1password.com"), authenticating with token. An empty
// baseURL means https:// plus the token's first "aud" claim; the token is
// decoded for that but not verified.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("new client: empty token")
	}
	o := options{userAgent: DefaultUserAgent, version: 2}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("new client: %w", err)
		}
	}
	if baseURL == "" {
		aud, err := Audience(token)
		if err != nil {
			return nil, fmt.Errorf("new client: no base URL given and %w", err)
		}
		baseURL = "https://" + aud
	}
	base, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("new client: base URL %q: want http(s)://host[:port]", baseURL)
	}
	hc, err := o.buildHTTPClient()
	if err != nil {
		return nil, fmt.Errorf("new client: %w", err)
	}
	return &Client{base: base, token: token, http: hc, userAgent: o.userAgent, version: o.version}, nil
}

func (o *options) buildHTTPClient() (*http.Client, error) {
	custom := o.proxy != nil || len(o.roots) > 0 || len(o.caFiles) > 0
	if o.httpClient != nil && !custom {
		return o.httpClient, nil
	}
	var tr *http.Transport
	hc := &http.Client{Timeout: 2 * time.Minute}
	if o.httpClient != nil {
		c := *o.httpClient
		hc = &c
		switch t := c.Transport.(type) {
		case nil:
			tr = http.DefaultTransport.(*http.Transport).Clone()
		case *http.Transport:
			tr = t.Clone()
		default:
			return nil, fmt.Errorf("proxy or root CA options need an *http.Transport, the HTTP client has a %T", t)
		}
	} else {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	if o.proxy != nil {
		tr.Proxy = http.ProxyURL(o.proxy)
	}
	if len(o.roots) > 0 || len(o.caFiles) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		for _, c := range o.roots {
			pool.AddCert(c)
		}
		for _, f := range o.caFiles {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("root CA file: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("root CA file %s: no PEM certificate found", f)
			}
		}
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	hc.Transport = tr
	return hc, nil
}

// BaseURL returns the URL the client calls, such as
// "https://events.1password.com".
func (c *Client) BaseURL() string { return c.base.String() }

// APIVersion returns 1, 2 or 3.
func (c *Client) APIVersion() int { return c.version }

// postPath is the v1 or v2 path of feature's event endpoint (v2 for a
// version 3 client).
func (c *Client) postPath(feature events.Feature) string {
	return fmt.Sprintf("/api/v%d/%s", min(c.version, 2), feature)
}

// do sends one request and returns the body of a 2xx reply, or a *Error.
func (c *Client) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	return c.doInto(ctx, method, path, body, nil)
}

// doInto is do reading the reply into buf's storage (grown when too
// small).
func (c *Client) doInto(ctx context.Context, method, path string, body any, buf []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := readBody(resp, buf)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newError(resp, data, time.Now())
	}
	if err != nil {
		return nil, fmt.Errorf("read reply: %w", err)
	}
	return data, nil
}

func readBody(resp *http.Response, buf []byte) ([]byte, error) {
	buf = buf[:0]
	if n := resp.ContentLength; n > 0 && n <= maxBody && int64(cap(buf)) < n+1 {
		buf = make([]byte, 0, n+1) // +1: see EOF without growing
	}
	for {
		if len(buf) == cap(buf) {
			if len(buf) > maxBody {
				return nil, fmt.Errorf("reply larger than %d bytes", maxBody)
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := resp.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			if len(buf) > maxBody {
				return nil, fmt.Errorf("reply larger than %d bytes", maxBody)
			}
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
