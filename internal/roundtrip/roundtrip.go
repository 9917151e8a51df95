// Package roundtrip makes one HTTP round-trip for a test: build a request,
// send it, read the whole reply and close it, failing the test on a
// transport or read error. It imports nothing of Logbook, so every test
// can use it, including the in-package tests of packages that
// internal/servertest itself imports (cli, ingest, console).
package roundtrip

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// New makes a request to url carrying body (none when empty) and, when
// bearer is not empty, the header "Authorization: Bearer <bearer>".
func New(t testing.TB, method, url, bearer, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return req
}

// Do sends req with c (http.DefaultClient when nil), reads the whole reply
// and closes it. The response's Body is closed; its status and header stay
// readable.
func Do(t testing.TB, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read reply: %v", req.Method, req.URL, err)
	}
	return res, b
}

// Call sends the request New makes with http.DefaultClient and returns the
// status and the whole body.
func Call(t testing.TB, method, url, bearer, body string) (int, []byte) {
	t.Helper()
	res, b := Do(t, nil, New(t, method, url, bearer, body))
	return res.StatusCode, b
}
