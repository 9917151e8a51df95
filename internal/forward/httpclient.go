package forward

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"net/http"
	"net/url"
	"time"
)

// HTTPClient returns the HTTP client of a sink that posts to its
// destination: Go's default transport (proxy from the environment,
// keep-alive, HTTP/2) with tlsConf (nil keeps Go's defaults), every
// request bounded by timeout. Close it with CloseIdleConnections.
func HTTPClient(tlsConf *tls.Config, timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConf
	return &http.Client{Transport: tr, Timeout: timeout}
}

// IsHTTPURL reports whether raw is an absolute http or https URL with a
// host, as a sink's url option must be.
func IsHTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// HTTPOptions are the options of a sink that posts over HTTP(S), embedded
// in its Options with `yaml:",inline"`.
type HTTPOptions struct {
	// Timeout bounds one HTTP request; each sink documents its default.
	Timeout time.Duration `yaml:"timeout"`
	// CAFile is a PEM bundle of CAs to trust besides the system's.
	CAFile string `yaml:"ca_file"`
	// InsecureSkipVerify disables TLS certificate checks (tests only).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Client checks the options, fills Timeout with def when it was left
// empty, and returns the HTTPClient they describe. Problems go to errs,
// each naming its option; the client is nil when reading CAFile failed.
func (o *HTTPOptions) Client(errs *OptionErrors, def time.Duration) *http.Client {
	NonNegative(errs, "timeout", &o.Timeout, def)
	tlsConf, err := TLSConfig(o.CAFile, o.InsecureSkipVerify)
	if err != nil {
		errs.Add(err)
		return nil
	}
	return HTTPClient(tlsConf, o.Timeout)
}

// RequestBody is an HTTP request body being written, gzip-compressed as
// it is written when the sink's gzip option is on.
type RequestBody struct {
	buf bytes.Buffer
	zw  *gzip.Writer
}

// NewRequestBody returns an empty body, compressed when gz is true.
func NewRequestBody(gz bool) *RequestBody {
	b := &RequestBody{}
	if gz {
		b.zw = gzip.NewWriter(&b.buf)
	}
	return b
}

// Write adds p to the body.
func (b *RequestBody) Write(p []byte) (int, error) {
	if b.zw != nil {
		return b.zw.Write(p)
	}
	return b.buf.Write(p)
}

// Gzip reports whether the body is compressed, so the request needs
// "Content-Encoding: gzip".
func (b *RequestBody) Gzip() bool { return b.zw != nil }

// Finish completes the gzip stream and returns the bytes to send.
func (b *RequestBody) Finish() (*bytes.Buffer, error) {
	if b.zw != nil {
		if err := b.zw.Close(); err != nil {
			return nil, err
		}
	}
	return &b.buf, nil
}
