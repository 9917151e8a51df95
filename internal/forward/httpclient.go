package forward

import (
	"crypto/tls"
	"net/http"
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
