package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/logbookhq/logbook/internal/store"
)

// The public URL is where clients reach the server; its host:port is the
// aud of every token. serve records it in <data>/public-url on its first
// start (from --public-url, or from the listener) and keeps it: a later
// --listen does not change it, so tokens keep working. Only --public-url
// changes it. The file's first line is the current URL, and the lines
// after it the URLs the server had before: tokens issued for those keep
// working, since the server accepts the aud of every public URL it has
// had. They are this server's own tokens, signed with its keys, so that
// opens nothing to tokens made elsewhere; revoking a token is how to end
// it.

// publicURLFile is the file in the data directory that holds them.
const publicURLFile = "public-url"

// readPublicURLs returns the recorded public URL ("" if none) and the
// earlier ones.
func readPublicURLs(data string) (current string, earlier []string) {
	b, err := os.ReadFile(filepath.Join(data, publicURLFile))
	if err != nil {
		return "", nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if current == "" {
			current = line
		} else if !slices.Contains(earlier, line) && line != current {
			earlier = append(earlier, line)
		}
	}
	return current, earlier
}

// writePublicURLs records the current public URL, then the earlier ones.
func writePublicURLs(data, current string, earlier []string) error {
	var b strings.Builder
	b.WriteString(current + "\n")
	for _, u := range earlier {
		b.WriteString(u + "\n")
	}
	return writeFileAtomic(filepath.Join(data, publicURLFile), []byte(b.String()), 0o600)
}

// publicURLChoice is the public URL serve starts with.
type publicURLChoice struct {
	url         string   // "" on a first start without --public-url: from the listener
	earlier     []string // earlier public URLs, whose tokens are accepted
	changedFrom string   // the recorded URL that --public-url replaces, when the aud changes
}

// choosePublicURL picks the public URL: --public-url (flag) if given,
// else the recorded one. https says whether the server serves HTTPS: a
// recorded loopback URL follows it (aud is host:port, so its tokens are
// unaffected).
func choosePublicURL(data, flag string, https bool) (publicURLChoice, error) {
	recorded, earlier := readPublicURLs(data)
	c := publicURLChoice{url: flag, earlier: earlier}
	switch {
	case flag != "" && recorded != "":
		newAud, err := audienceOf(flag)
		if err != nil {
			return c, usagef("%v", err)
		}
		if oldAud, err := audienceOf(recorded); err == nil && oldAud != newAud {
			c.changedFrom = recorded
			c.earlier = append([]string{recorded}, earlier...)
		}
	case recorded != "":
		c.url = recorded
		if u, err := url.Parse(recorded); err == nil && isLoopbackHost(u.Hostname()) {
			u.Scheme = map[bool]string{true: "https", false: "http"}[https]
			c.url = u.String()
		}
	}
	// The current URL's audience is not an "earlier" one.
	if aud, err := audienceOf(c.url); err == nil {
		c.earlier = slices.DeleteFunc(c.earlier, func(u string) bool {
			a, err := audienceOf(u)
			return err != nil || a == aud
		})
	}
	return c, nil
}

// warnPublicURLChange says, at warn, that --public-url changed the public
// URL and what becomes of the tokens issued for the old one.
func warnPublicURLChange(ctx context.Context, st store.Store, data, old, new string, log *slog.Logger) {
	n, err := activeTokens(ctx, st, time.Now())
	if err != nil {
		log.Warn("count active tokens", "err", err)
	}
	log.Warn(fmt.Sprintf("public URL changed from %s to %s by --public-url: the %d active tokens issued before keep working, "+
		"since the server accepts the aud of every public URL it has had (listed in %s); tokens issued from now on carry the new aud. "+
		"Revoke old tokens with logbook token revoke to end them.", old, new, n, filepath.Join(data, publicURLFile)),
		"old", old, "new", new, "active_tokens", n)
}

// activeTokens counts the tokens of every account that are neither
// revoked nor expired.
func activeTokens(ctx context.Context, st store.Store, now time.Time) (int, error) {
	as, err := st.Accounts(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range as {
		ts, err := st.AccountTokens(ctx, a.UUID)
		if err != nil {
			return n, err
		}
		for _, t := range ts {
			if t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt)) {
				n++
			}
		}
	}
	return n, nil
}

// isLoopback reports whether a listen address is on loopback only.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	return isLoopbackHost(host)
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// reachableURL is the URL to try the server at from this machine: the
// public URL, unless that is a loopback one on another port than the
// listener (the public URL was kept from an earlier start on another
// port), in which case the listener's.
func reachableURL(srv *Server) string {
	pu, err := url.Parse(srv.URL)
	if err != nil || !isLoopbackHost(pu.Hostname()) || srv.ListenURL == "" {
		return srv.URL
	}
	lu, err := url.Parse(srv.ListenURL)
	if err != nil || lu.Port() == pu.Port() {
		return srv.URL
	}
	return srv.ListenURL
}
