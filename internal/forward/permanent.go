package forward

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/logbookhq/logbook/events"
)

// PermanentError is a failure of a source that waiting will not cure: a
// refused token, a URL that is not an Events API, a TLS or protocol
// mismatch, a host that does not exist. A continuous forwarder retries
// these (an operator may fix them while it runs); with Options.Once the
// source stops at the first one and Run returns it, so that a run under
// cron ends with a non-zero exit instead of retrying forever.
//
// Its message is one line: the source, what went wrong, what to do.
type PermanentError struct {
	Source  string
	Feature events.Feature // set when one stream failed
	Problem string         // what went wrong, for people
	Fix     string         // what to change
	Err     error
}

func (e *PermanentError) Error() string {
	src := e.Source
	if e.Feature != "" {
		src += " (" + string(e.Feature) + ")"
	}
	return fmt.Sprintf("source %s: %s; %s", src, e.Problem, e.Fix)
}

func (e *PermanentError) Unwrap() error { return e.Err }

// Diagnose returns a *PermanentError when err, from a request of the named
// source, is one that no retry will cure, and nil when it may be temporary:
// 408, 429 and 5xx replies, refused or reset connections and timeouts
// (a server restarting, a network hiccup).
func Diagnose(source string, err error) *PermanentError {
	if err == nil {
		return nil
	}
	pe := &PermanentError{Source: source, Err: err}
	var se *SourceError
	if errors.As(err, &se) {
		status := fmt.Sprintf("%d %s", se.StatusCode, http.StatusText(se.StatusCode))
		if msg := oneLine(se.Message); msg != "" && msg != http.StatusText(se.StatusCode) {
			status += ": " + msg
		}
		switch code := se.StatusCode; {
		case code == http.StatusUnauthorized:
			pe.Problem = "the Events API refused the token (" + status + ")"
			pe.Fix = "it is revoked, expired or meant for another server: put a valid token in the source's token_file or token_env"
		case code == http.StatusForbidden:
			pe.Problem = "the token may not read this (" + status + ")"
			pe.Fix = "issue a token with the features to forward, or list only those in the source's features"
		case code == http.StatusNotFound || code == http.StatusMethodNotAllowed:
			pe.Problem = "no Events API at this URL (" + status + ")"
			pe.Fix = "check the source's url"
		case code == http.StatusBadRequest:
			pe.Problem = "the Events API refused the request (" + status + ")"
			pe.Fix = "check the source's url and api_version; if it refuses the saved cursor, run \"logbook forward cursor rewind\""
		case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
			return nil
		case code >= 400:
			pe.Problem = "the Events API refused the request (" + status + ")"
			pe.Fix = "check the source's url, token and api_version"
		default:
			return nil
		}
		return pe
	}
	var ue *url.Error
	base := ""
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			base = u.Scheme + "://" + u.Host
		}
	}
	var (
		dns     *net.DNSError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		inval   x509.CertificateInvalidError
		verify  *tls.CertificateVerificationError
		record  tls.RecordHeaderError
	)
	switch {
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		pe.Problem = base + " answers in plain HTTP, not HTTPS"
		pe.Fix = "set the source's url: " + strings.Replace(base, "https://", "http://", 1)
		if base == "" {
			pe.Fix = "set the source's url to its http:// address"
		}
	case errors.As(err, &record):
		pe.Problem = base + " does not answer in TLS"
		pe.Fix = "check the source's url (http:// or https://, and the port)"
	case errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &inval), errors.As(err, &verify):
		pe.Problem = "the certificate of " + base + " is not trusted: " + oneLine(err.Error())
		pe.Fix = "check the source's url, or give the CA that signed it in ca_file"
	case errors.As(err, &dns) && dns.IsNotFound:
		pe.Problem = "host " + dns.Name + " not found"
		pe.Fix = "check the source's url"
	default:
		return nil
	}
	return pe
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
