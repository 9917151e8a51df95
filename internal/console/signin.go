package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/admin"
	"github.com/logbookhq/logbook/internal/store"
)

// MaxSignInFailures is how many failed sign-ins one client IP may make for
// one e-mail address in a minute; further attempts are refused until the
// minute ends. Each attempt is counted before its password is checked and
// uncounted when the password is right, so attempts sent at once are
// limited too.
const MaxSignInFailures = 5

const signInCSRFCookie = "logbook_console_signin"

type signInForm struct {
	Email, Account string
	NeedAccount    bool
	CSRF           string
	Error          string
}

func (h *handler) signInPage(w http.ResponseWriter, r *http.Request, c *call) error {
	if c.raw != "" {
		http.Redirect(w, r, h.prefix+"/integrations", http.StatusSeeOther)
		return nil
	}
	f := signInForm{Email: r.URL.Query().Get("email")}
	return h.showSignIn(w, r, c, http.StatusOK, f)
}

// showSignIn renders the form with a fresh double-submit CSRF token.
func (h *handler) showSignIn(w http.ResponseWriter, r *http.Request, c *call, status int, f signInForm) error {
	as, err := h.cfg.Store.Accounts(r.Context())
	if err != nil {
		return err
	}
	f.NeedAccount = len(as) != 1
	f.CSRF = randomString(24)
	http.SetCookie(w, &http.Cookie{Name: signInCSRFCookie, Value: f.CSRF, Path: h.prefix + "/signin",
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	h.render(w, r, c, status, "signin.html", "Sign in", "", f)
	return nil
}

func (h *handler) signIn(w http.ResponseWriter, r *http.Request, c *call) error {
	ck, err := r.Cookie(signInCSRFCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), ck.Value) {
		return errCSRF
	}
	ctx := r.Context()
	f := signInForm{Email: strings.TrimSpace(r.PostFormValue("email")), Account: strings.TrimSpace(r.PostFormValue("account"))}
	password := r.PostFormValue("password")
	if f.Email == "" || password == "" {
		f.Error = "Enter your e-mail address and password."
		return h.showSignIn(w, r, c, http.StatusBadRequest, f)
	}
	ip := clientIP(r)
	key := "console-signin:" + hashKey(ip+"\x00"+strings.ToLower(f.Email))
	window := h.now().UTC().Truncate(time.Minute)
	// Reserve the attempt before checking it, so that attempts sent at
	// once cannot all pass a count read before any of them failed.
	n, err := h.cfg.Store.IncrCounter(ctx, key, window, 1)
	if err != nil {
		return fmt.Errorf("sign-in counter: %w", err)
	}
	if n > MaxSignInFailures {
		wait := window.Add(time.Minute).Sub(h.now())
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		h.log.Warn("console sign-in rate-limited", "ip", ip)
		f.Error = fmt.Sprintf("Too many failed attempts. Wait %d seconds and try again.", int(wait.Seconds())+1)
		return h.showSignIn(w, r, c, http.StatusTooManyRequests, f)
	}
	u, acct, err := h.limitedCheck(ctx, f, password)
	if admin.KindOf(err) != admin.ErrUnauthenticated {
		// Not a failure (right password, busy server or store error):
		// give the reservation back, even if the client has gone.
		if _, rerr := h.cfg.Store.IncrCounter(context.WithoutCancel(ctx), key, window, -1); rerr != nil {
			return errors.Join(err, fmt.Errorf("sign-in counter: %w", rerr))
		}
	}
	if errors.Is(err, errChecksBusy) {
		w.Header().Set("Retry-After", "1")
		h.log.Warn("console sign-in refused: password checks busy", "ip", ip)
		f.Error = "The server is busy checking other sign-ins. Try again in a moment."
		return h.showSignIn(w, r, c, http.StatusServiceUnavailable, f)
	}
	if admin.KindOf(err) == admin.ErrUnauthenticated {
		h.log.Info("console sign-in failed", "ip", ip)
		f.Error = "The e-mail address or password is wrong."
		if f.Account != "" {
			f.Error = "The account, e-mail address or password is wrong."
		}
		return h.showSignIn(w, r, c, http.StatusUnauthorized, f)
	}
	if err != nil {
		return err
	}
	if u.Role != store.RoleOwner && u.Role != store.RoleAdmin {
		h.log.Info("console sign-in refused: member", "user", u.UUID)
		return memberRefusal(u)
	}
	if c.raw != "" {
		if err := h.sessions.delete(ctx, c.raw); err != nil {
			return fmt.Errorf("end previous session: %w", err)
		}
	}
	raw, err := h.sessions.create(ctx, &session{uuid: events.NewID(), device: events.NewLowerID(),
		userUUID: u.UUID, account: acct.UUID, ip: ip})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: raw, Path: h.prefix + "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: signInCSRFCookie, Path: h.prefix + "/signin", MaxAge: -1})
	h.log.Info("console sign-in", "user", u.UUID, "account", acct.UUID, "ip", ip)
	http.Redirect(w, r, h.prefix+"/integrations", http.StatusSeeOther)
	return nil
}

// errChecksBusy is limitedCheck's refusal when the queue is full, or when
// the request ends while it waits.
var errChecksBusy = errors.New("password checks busy")

// checkSlots bounds the password checks running at once server-wide: each
// argon2id check holds 19 MiB and a core for tens of milliseconds, so
// unbounded parallel sign-ins would take the server's memory. run holds
// one token per running check; admit one per running or waiting check,
// so that at most cap(admit)-cap(run) wait.
type checkSlots struct {
	run, admit chan struct{}
}

func newCheckSlots(n int) *checkSlots {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return &checkSlots{run: make(chan struct{}, n), admit: make(chan struct{}, n+checkQueue(n))}
}

// checkQueue is how many checks may wait for a slot: a second's worth at
// the usual 50-100 ms a check, at least 4.
func checkQueue(n int) int { return max(4, 2*n) }

// limitedCheck is checkPassword in a check slot: errChecksBusy at once
// when the queue is full, or if the context ends while it waits.
func (h *handler) limitedCheck(ctx context.Context, f signInForm, password string) (store.User, store.Account, error) {
	select {
	case h.checks.admit <- struct{}{}:
	default:
		return store.User{}, store.Account{}, errChecksBusy
	}
	defer func() { <-h.checks.admit }()
	select {
	case h.checks.run <- struct{}{}:
	case <-ctx.Done():
		// The client left (or gave up) before a slot was free.
		return store.User{}, store.Account{}, errChecksBusy
	}
	defer func() { <-h.checks.run }()
	return h.checkPassword(ctx, f, password)
}

// checkPassword finds the account (the one named, or the only one) and
// checks the user's password there. Every failure to find or match is
// admin.ErrUnauthenticated.
func (h *handler) checkPassword(ctx context.Context, f signInForm, password string) (store.User, store.Account, error) {
	if h.checkHook != nil {
		h.checkHook(true)
		defer h.checkHook(false)
	}
	var acct store.Account
	var err error
	if f.Account != "" {
		acct, err = h.cfg.Admin.Account(ctx, f.Account)
	} else {
		acct, err = h.cfg.Admin.DefaultAccount(ctx)
	}
	if k := admin.KindOf(err); k == admin.ErrNotFound || k == admin.ErrInvalid {
		// Spend the time a real check takes (it checks a dummy hash).
		_, _ = h.cfg.Admin.CheckUserPassword(ctx, store.Account{}, f.Email, password)
		return store.User{}, store.Account{}, &admin.Error{Kind: admin.ErrUnauthenticated, Msg: "wrong account"}
	}
	if err != nil {
		return store.User{}, store.Account{}, err
	}
	u, err := h.cfg.Admin.CheckUserPassword(ctx, acct, f.Email, password)
	if err != nil {
		return store.User{}, store.Account{}, err
	}
	return u, acct, nil
}

func (h *handler) signOut(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := h.sessions.delete(r.Context(), c.raw); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: h.prefix + "/", MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, h.prefix+"/signin", http.StatusSeeOther)
	return nil
}
