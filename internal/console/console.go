package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/logcap"
	"github.com/logbookhq/logbook/internal/scorecard"
	"github.com/logbookhq/logbook/internal/store"
)

//go:embed templates static
var files embed.FS

// DefaultPrefix is where the console is mounted unless Config says otherwise.
const DefaultPrefix = "/console"

const sessionCookie = "logbook_console"

// Config holds a console's dependencies. Admin and Store are required.
type Config struct {
	Admin *admin.Service
	// Store gives the activity page its events and counts, and keeps the
	// sign-in failure counters and the sessions.
	Store store.Store
	// PublicURL is the Events API's URL, for the curl command shown with a
	// new token; "http://127.0.0.1:8080" when empty.
	PublicURL string
	// Prefix is the path the console is served under; DefaultPrefix when
	// empty. The handler answers only below it.
	Prefix string
	// Scorecard returns the connector scorecard of token id of account
	// (internal/sandbox), shown per token on the activity page; the section
	// says it is not available when nil.
	Scorecard ScorecardFunc
	// ServeWindow is the server's serving window (serve --serve-window),
	// which an account without its own serves; 120 days when zero.
	ServeWindow time.Duration
	// MaxPasswordChecks bounds the sign-in password checks (argon2id, 19
	// MiB each) running at once; GOMAXPROCS when zero. A few more wait,
	// and sign-ins beyond those get 503 with Retry-After.
	MaxPasswordChecks int
	// Now returns the time; time.Now when nil.
	Now func() time.Time
	// Logger receives sign-ins and internal errors; discarded when nil.
	Logger *slog.Logger
}

// ScorecardFunc returns the scorecard of the token id of account.
type ScorecardFunc func(ctx context.Context, account, id string) (scorecard.Card, error)

type handler struct {
	cfg      Config
	prefix   string
	sessions *sessions
	pages    map[string]*template.Template
	checks   *checkSlots
	log      *slog.Logger
	now      func() time.Time
	// checkHook, when set (by tests), is called as each password check
	// starts (true) and ends (false).
	checkHook func(start bool)
}

// NewHandler returns the console's handler. It serves only paths under
// cfg.Prefix and answers 404 elsewhere.
func NewHandler(cfg Config) (http.Handler, error) {
	h, err := newHandler(cfg)
	if err != nil {
		return nil, err
	}
	return h.routes(), nil
}

func newHandler(cfg Config) (*handler, error) {
	if cfg.Admin == nil || cfg.Store == nil {
		return nil, errors.New("console: Admin and Store are required")
	}
	h := &handler{cfg: cfg, prefix: strings.TrimSuffix(cfg.Prefix, "/"), log: cfg.Logger, now: cfg.Now}
	if h.prefix == "" {
		h.prefix = DefaultPrefix
	}
	if h.cfg.PublicURL == "" {
		h.cfg.PublicURL = "http://127.0.0.1:8080"
	}
	h.cfg.PublicURL = strings.TrimSuffix(h.cfg.PublicURL, "/")
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.sessions = newSessions(cfg.Store, h.now)
	h.checks = newCheckSlots(cfg.MaxPasswordChecks)
	if err := h.parseTemplates(); err != nil {
		return nil, err
	}
	return h, nil
}

// routes lists every route of the console.
func (h *handler) routes() http.Handler {
	p := h.prefix
	mux := http.NewServeMux()
	static, _ := fs.Sub(files, "static")
	mux.Handle("GET "+p+"/static/", http.StripPrefix(p+"/static/", cacheStatic(http.FileServerFS(static))))
	mux.HandleFunc("GET "+p+"/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, p+"/integrations", http.StatusSeeOther)
	})
	mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
	})

	mux.Handle("GET "+p+"/signin", h.public(h.signInPage))
	mux.Handle("POST "+p+"/signin", h.public(h.signIn))
	mux.Handle("POST "+p+"/signout", h.authed(h.signOut))

	mux.Handle("GET "+p+"/integrations", h.authed(h.integrations))
	mux.Handle("GET "+p+"/integrations/new", h.authed(h.newIntegration))
	mux.Handle("POST "+p+"/integrations", h.authed(h.createIntegration))
	mux.Handle("GET "+p+"/integrations/{integration}", h.authed(h.integrationDetails))
	mux.Handle("GET "+p+"/integrations/{integration}/tokens/new", h.authed(h.newToken))
	mux.Handle("POST "+p+"/integrations/{integration}/tokens", h.authed(h.issueToken))
	mux.Handle("GET "+p+"/integrations/{integration}/tokens/{token}/saved", h.authed(h.savedToken))
	mux.Handle("GET "+p+"/integrations/{integration}/tokens/{token}/download", h.authed(h.downloadToken))
	mux.Handle("GET "+p+"/integrations/{integration}/tokens/{token}/revoke", h.authed(h.confirmRevoke))
	mux.Handle("POST "+p+"/integrations/{integration}/tokens/{token}/revoke", h.authed(h.revokeToken))

	mux.Handle("GET "+p+"/integrations/{integration}/delete", h.authed(h.confirmDeleteIntegration))
	mux.Handle("POST "+p+"/integrations/{integration}/delete", h.authed(h.deleteIntegration))
	mux.Handle("GET "+p+"/integrations/{integration}/tokens/{token}/rename", h.authed(h.renameTokenForm))
	mux.Handle("POST "+p+"/integrations/{integration}/tokens/{token}/rename", h.authed(h.renameToken))

	mux.Handle("GET "+p+"/users", h.authed(h.users))
	mux.Handle("GET "+p+"/users/new", h.authed(h.newUser))
	mux.Handle("POST "+p+"/users", h.authed(h.addUser))
	mux.Handle("POST "+p+"/users/{user}/role", h.authed(h.setRole))
	mux.Handle("GET "+p+"/keys", h.authed(h.keys))
	mux.Handle("GET "+p+"/keys/rotate", h.authed(h.confirmRotate))
	mux.Handle("POST "+p+"/keys/rotate", h.authed(h.rotateKey))
	mux.Handle("POST "+p+"/keys/admin", h.authed(h.createAdminKey))
	mux.Handle("GET "+p+"/keys/admin/{key}/saved", h.authed(h.savedAdminKey))
	mux.Handle("GET "+p+"/keys/admin/{key}/revoke", h.authed(h.confirmRevokeAdminKey))
	mux.Handle("POST "+p+"/keys/admin/{key}/revoke", h.authed(h.revokeAdminKey))

	mux.Handle("GET "+p+"/ingest-keys", h.authed(h.ingestKeys))
	mux.Handle("POST "+p+"/ingest-keys", h.authed(h.createIngestKey))
	mux.Handle("GET "+p+"/ingest-keys/{key}/saved", h.authed(h.savedIngestKey))
	mux.Handle("GET "+p+"/ingest-keys/{key}/revoke", h.authed(h.confirmRevokeIngestKey))
	mux.Handle("POST "+p+"/ingest-keys/{key}/revoke", h.authed(h.revokeIngestKey))

	mux.Handle("GET "+p+"/activity", h.authed(h.activity))

	mux.Handle("GET "+p+"/account", h.authed(h.account))
	mux.Handle("POST "+p+"/account/serve-window", h.authed(h.setServeWindow))

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, nil, &pageError{status: http.StatusForbidden, title: "Request refused",
			msg: "This form was sent from another site, so it was refused. Go back to the console and try again."})
	}))
	return securityHeaders(cop.Handler(mux))
}

// securityHeaders sets the headers every console response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// call is one request being served.
type call struct {
	raw   string // the session cookie's value
	sess  session
	actor admin.Actor
	nonce string // the CSP nonce of inline scripts
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, c *call) error

// public serves a page that needs no session.
func (h *handler) public(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{nonce: randomString(16)}
		if ck, err := r.Cookie(sessionCookie); err == nil {
			s, ok, err := h.sessions.get(r.Context(), ck.Value)
			if err != nil {
				h.writeError(w, r, c, fmt.Errorf("session: %w", err))
				return
			}
			if ok {
				c.raw, c.sess = ck.Value, s
			}
		}
		if err := fn(w, r, c); err != nil {
			h.writeError(w, r, c, err)
		}
	})
}

// authed serves a page for a signed-in owner or administrator: others are
// sent to the sign-in page, and members get a refusal. A POST must carry
// the session's CSRF token.
func (h *handler) authed(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{nonce: randomString(16)}
		ck, err := r.Cookie(sessionCookie)
		var ok bool
		if err == nil {
			c.sess, ok, err = h.sessions.get(r.Context(), ck.Value)
			if err != nil {
				h.writeError(w, r, c, fmt.Errorf("session: %w", err))
				return
			}
		}
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, h.prefix+"/signin", http.StatusSeeOther)
				return
			}
			h.writeError(w, r, c, &pageError{status: http.StatusUnauthorized, title: "Signed out",
				msg: "Your session has ended. Sign in again."})
			return
		}
		c.raw = ck.Value
		if err := h.loadActor(r, c); err != nil {
			h.writeError(w, r, c, err)
			return
		}
		if r.Method == http.MethodPost && !sameToken(r.PostFormValue("csrf"), c.sess.csrf) {
			h.writeError(w, r, c, errCSRF)
			return
		}
		if err := fn(w, r, c); err != nil {
			h.writeError(w, r, c, err)
		}
	})
}

var errCSRF = &pageError{status: http.StatusForbidden, title: "Request refused",
	msg: "The form's security token is missing or out of date. Go back, reload the page and try again."}

// loadActor reads the session's user afresh, so a role changed since
// sign-in takes effect at once.
func (h *handler) loadActor(r *http.Request, c *call) error {
	ctx := r.Context()
	u, err := h.cfg.Store.User(ctx, c.sess.userUUID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.AccountUUID != c.sess.account) {
		if err := h.sessions.delete(ctx, c.raw); err != nil {
			return fmt.Errorf("end session of a removed user: %w", err)
		}
		return &pageError{status: http.StatusUnauthorized, title: "Signed out", msg: "Your user no longer exists. Sign in again."}
	}
	if err != nil {
		return err
	}
	acct, err := h.cfg.Store.Account(ctx, c.sess.account)
	if err != nil {
		return fmt.Errorf("session account: %w", err)
	}
	if u.Role != store.RoleOwner && u.Role != store.RoleAdmin {
		return memberRefusal(u)
	}
	c.actor = admin.Actor{User: u, Account: acct, Session: events.Session{
		UUID: c.sess.uuid, LoginTime: c.sess.created.UTC(), DeviceUUID: c.sess.device, IP: clientIP(r),
	}}
	return nil
}

func memberRefusal(u store.User) error {
	return &pageError{status: http.StatusForbidden, title: "Owners and administrators only",
		msg: fmt.Sprintf("You are signed in as %s, a %s of this account. Only owners and administrators can set up Events Reporting; ask one of them to give you the administrator role.", u.Email, u.Role)}
}

// clientIP is the address the request came from. X-Forwarded-For is not
// trusted: a proxy in front of the console limits sign-ins per its own
// address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// pathItem returns the item of xs (listed with err) whose id is the
// request's path value name, or ErrNotFound with the message missing.
func pathItem[T any](r *http.Request, name string, xs []T, err error, id func(T) string, missing string) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	want := r.PathValue(name)
	for _, x := range xs {
		if id(x) == want {
			return x, nil
		}
	}
	return zero, &admin.Error{Kind: admin.ErrNotFound, Field: name, Msg: missing}
}

// pageError is an error shown as a page with a status.
type pageError struct {
	status     int
	title, msg string
}

func (e *pageError) Error() string { return e.title + ": " + e.msg }

// writeError shows err as a page: admin errors with the status
// admin.StatusOf gives their kind, internal failures as 500 with the
// detail only in the log.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, c *call, err error) {
	var pe *pageError
	if !errors.As(err, &pe) {
		pe = &pageError{status: admin.StatusOf(err)}
		switch admin.KindOf(err) {
		case admin.ErrNotFound:
			pe.title, pe.msg = "Not found", "There is nothing here in your account. It may have been deleted, or belong to another account."
		case admin.ErrForbidden:
			pe.title, pe.msg = "Not allowed", messageOf(err)
		case admin.ErrInvalid, admin.ErrConflict:
			pe.title, pe.msg = "Cannot do that", messageOf(err)
		case admin.ErrUnauthenticated:
			pe.title, pe.msg = "Signed out", "Sign in again."
		default:
			h.log.Error("console", "method", logcap.String(r.Method), "path", logcap.String(r.URL.Path), "err", logcap.Err(err))
			pe.title, pe.msg = "Something went wrong", "The server could not do that. The details are in its log; try again in a moment."
		}
	}
	if c == nil {
		c = &call{nonce: randomString(16)}
	}
	h.render(w, r, c, pe.status, "error.html", pe.title, "", struct{ Title, Msg string }{pe.title, pe.msg})
}

// messageOf returns an admin error's message with its field, made readable.
func messageOf(err error) string {
	var ae *admin.Error
	if errors.As(err, &ae) {
		if ae.Field != "" {
			return fieldLabel(ae.Field) + ": " + ae.Msg
		}
		return ae.Msg
	}
	return err.Error()
}

// fieldLabel names a form field as the page labels it.
func fieldLabel(field string) string {
	switch field {
	case "name":
		return "Name"
	case "features":
		return "Events to Report"
	case "expires_in":
		return "Expires After"
	case "siem":
		return "SIEM"
	case "email":
		return "E-mail address"
	case "role":
		return "Role"
	case "password":
		return "Password"
	case "user":
		return "User"
	case "serve_window":
		return "Serving window"
	}
	return field
}

// view is what every page template gets.
type view struct {
	Title  string
	Nav    string // the active sidebar entry
	Prefix string
	CSRF   string
	Nonce  string
	User   *store.User
	Acct   *store.Account
	Data   any
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, c *call, status int, name, title, nav string, data any) {
	t, ok := h.pages[name]
	if !ok {
		panic("console: no template " + name)
	}
	v := view{Title: title, Nav: nav, Prefix: h.prefix, Nonce: c.nonce, Data: data}
	if c.actor.User.UUID != "" {
		v.User, v.Acct, v.CSRF = &c.actor.User, &c.actor.Account, c.sess.csrf
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		h.log.Error("console: render", "template", name, "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'nonce-"+c.nonce+"'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *handler) parseTemplates() error {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("Jan 2, 2006 15:04 UTC")
		},
		"whenISO": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"short":   func(t time.Time) string { return t.UTC().Format("Jan 2 15:04:05") },
		"exact":   func(t time.Time) string { return t.UTC().Format("Mon Jan 2, 2006 15:04:05 UTC") },
		"ago":     ago,
		"features": func(fs []events.Feature) string {
			names := make([]string, len(fs))
			for i, f := range fs {
				names[i] = featureTitle(f)
			}
			return strings.Join(names, ", ")
		},
		"featureTitle": featureTitle,
		"apiVersions":  apiVersions,
		"siemSlug":     siemSlug,
		"siem":         siemTileOf,
		// The arguments of the templates in partials.html.
		"actions": func(cancel, class, label string) formEnd {
			return formEnd{Cancel: cancel, Class: class, Label: label}
		},
		"confirm": func(csrf, action, cancel, label string) formEnd {
			return formEnd{CSRF: csrf, Action: action, Cancel: cancel, Class: "danger", Label: label}
		},
		"revokeCells": func(status, href, name string, rename bool) revokeCells {
			return revokeCells{Status: status, Href: href, Name: name, Rename: rename}
		},
		"newKeyForm": func(csrf, action, placeholder, label string, required bool) newKeyForm {
			return newKeyForm{CSRF: csrf, Action: action, Placeholder: placeholder, Label: label, Required: required}
		},
	}
	pages, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return err
	}
	h.pages = map[string]*template.Template{}
	for _, p := range pages {
		name := strings.TrimPrefix(p, "templates/")
		if name == "layout.html" || name == "partials.html" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/partials.html", p)
		if err != nil {
			return fmt.Errorf("console: parse %s: %w", name, err)
		}
		h.pages[name] = t
	}
	return nil
}

// formEnd is what the "actions" and "confirm" templates take: the Cancel
// link and the submit button that end a form, and for "confirm" the form's
// Action and CSRF token.
type formEnd struct {
	CSRF, Action, Cancel, Class, Label string
}

// revokeCells is what the "revokeCells" template takes: a listed token's or
// key's status, name, the path its Revoke (and, with Rename, its Rename)
// links start with.
type revokeCells struct {
	Status, Href, Name string
	Rename             bool
}

// newKeyForm is what the "newKeyForm" template takes: where the form posts,
// the session's CSRF token, the name field's placeholder (and whether a
// name is required) and the submit button's label.
type newKeyForm struct {
	CSRF, Action, Placeholder, Label string
	Required                         bool
}

// featureTitle is a feature as the pages name it.
func featureTitle(f events.Feature) string {
	switch f {
	case events.SignInAttempts:
		return "Sign-in attempts"
	case events.ItemUsages:
		return "Item usages"
	case events.AuditEvents:
		return "Audit events"
	}
	return string(f)
}

// apiVersions says which Events API versions a token with features fs can
// read: v1 and v2 for each feature, and the v3 beta for audit events
// (docs/v3.md).
func apiVersions(fs []events.Feature) string {
	if slices.Contains(fs, events.AuditEvents) {
		return "v1, v2, v3 beta (audit events)"
	}
	return "v1, v2"
}

// siemSlug is the SIEM's name in URLs: "Sumo Logic" → "sumo-logic".
func siemSlug(siem string) string {
	return strings.ReplaceAll(strings.ToLower(siem), " ", "-")
}
