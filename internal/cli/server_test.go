package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logbookhq/logbook/internal/localca"
	"github.com/logbookhq/logbook/internal/roundtrip"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
)

// get fetches url without following redirects; host, when set, replaces
// the Host header (the TLS handshake still names the URL's host).
func get(t *testing.T, c *http.Client, url, host string) (*http.Response, string) {
	t.Helper()
	req := roundtrip.New(t, "GET", url, "", "")
	if host != "" {
		req.Host = host
	}
	res, b := roundtrip.Do(t, c, req)
	return res, string(b)
}

func trusting(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", caFile)
	}
	return &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// TestServeHSTS: HTTPS responses carry Strict-Transport-Security, a year
// for a certificate of the operator's and a day for the local CA of --tls;
// never to localhost, never over plain HTTP (issue 12, item 8).
func TestServeHSTS(t *testing.T) {
	certDir := t.TempDir()
	if _, _, err := localca.Ensure(certDir, nil); err != nil {
		t.Fatal(err)
	}
	localData := t.TempDir()
	for _, tc := range []struct {
		name, data string
		args       []string
		ca         func() string
		want       string
	}{
		{"--tls-cert", t.TempDir(), []string{"--tls-cert", filepath.Join(certDir, localca.CertFile), "--tls-key", filepath.Join(certDir, localca.KeyFile)},
			func() string { return filepath.Join(certDir, localca.CAFile) }, "max-age=31536000"},
		{"--tls", localData, []string{"--tls"}, func() string { return filepath.Join(localData, localca.CAFile) }, "max-age=86400"},
		{"plain HTTP", t.TempDir(), nil, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, stop := startServe(t, append([]string{"--data", tc.data, "--listen", "127.0.0.1:0", "--no-demo"}, tc.args...)...)
			defer stop()
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			if tc.ca != nil {
				c = trusting(t, tc.ca())
			}
			for _, path := range []string{"/healthz", "/api/v2/auth/introspect", "/", "/console/", "/nothing"} {
				res, _ := get(t, c, url+path, "")
				if got := res.Header.Get("Strict-Transport-Security"); got != tc.want {
					t.Errorf("%s: Strict-Transport-Security = %q, want %q", path, got, tc.want)
				}
			}
			port := url[strings.LastIndex(url, ":")+1:]
			for _, host := range []string{"localhost:" + port, "LOCALHOST", "app.localhost:" + port} {
				res, _ := get(t, c, url+"/healthz", host)
				if got := res.Header.Get("Strict-Transport-Security"); got != "" {
					t.Errorf("Host %s: Strict-Transport-Security = %q, want none", host, got)
				}
			}
		})
	}
}

// TestRootRedirect: GET / leads to the console, on the API's listener or
// on the console's own; other unknown paths stay a plain 404 (issue 13,
// item 10).
func TestRootRedirect(t *testing.T) {
	ctx := context.Background()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, consoleListen := range []string{"", "127.0.0.1:0"} {
		st := sqlitetest.New(t)
		srv, err := StartServer(ctx, ServerOptions{Store: st, Listen: "127.0.0.1:0", ConsoleListen: consoleListen})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })

		want := "/console/"
		if consoleListen != "" {
			want = srv.ConsoleURL
		}
		for _, method := range []string{"GET", "HEAD"} {
			res, _ := roundtrip.Do(t, noFollow, roundtrip.New(t, method, srv.URL+"/", "", ""))
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
				t.Errorf("console %q: %s / = %d to %q, want 303 to %q", consoleListen, method, res.StatusCode, res.Header.Get("Location"), want)
			}
		}
		// Following it lands on the console (its sign-in page).
		res, body := roundtrip.Do(t, nil, roundtrip.New(t, "GET", srv.URL+"/", "", ""))
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("console %q: following / gives %d %s:\n%.300s", consoleListen, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		res, text := get(t, noFollow, srv.URL+"/nothing", "")
		if res.StatusCode != 404 || text != "404 page not found\n" {
			t.Errorf("console %q: /nothing = %d %q, want the plain 404", consoleListen, res.StatusCode, text)
		}
		req := roundtrip.New(t, "POST", srv.URL+"/", "", "")
		req.Header.Set("Content-Type", "application/json")
		res, _ = roundtrip.Do(t, noFollow, req)
		if res.StatusCode == http.StatusSeeOther {
			t.Errorf("console %q: POST / redirects", consoleListen)
		}
	}
}
