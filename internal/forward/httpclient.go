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
