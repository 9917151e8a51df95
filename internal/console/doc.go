// Package console serves Logbook's web console: server-rendered pages (no
// JavaScript needed) where an account's owners and administrators set up
// Events Reporting the way 1Password's admin console does it (spec §11) —
// Integrations, the Events Reporting section, a SIEM tile, the integration's
// name, "Set up token", "Save your token", "View Integration Details" — an
// activity page with the account's event counts and latest events, and what
// else the CLI does on an account: renaming tokens, deleting integrations,
// users and their roles, ingest keys, signing keys (rotation) and the
// user's own admin API keys (create, revoke).
//
// Pages work at a phone's width: the sidebar folds into a Menu button (a
// small script; without it the menu stays open), and tables become one
// card per row or scroll inside their own region. The browser test checks
// every page at 390×844 and 1280×800 for horizontal overflow and with
// axe-core.
//
// Everything it does goes through internal/admin, so the console, the CLI
// and the admin API enforce the same rules and emit the same audit events.
//
// Security:
//   - Sign-in checks e-mail and password (argon2id, admin.CheckUserPassword).
//     Attempts are counted per client IP and e-mail in the store's shared
//     counters before the password is checked (a right password gives its
//     count back), so attempts sent at once are limited like others; after
//     MaxSignInFailures in a minute the pair is refused until the minute
//     ends. At most Config.MaxPasswordChecks checks (GOMAXPROCS) run at
//     once server-wide, a few more wait, and the rest get 503 with
//     Retry-After, so parallel sign-ins cannot take the server's memory.
//     Members are refused with a page that says why.
//   - Sessions live in the store (store.SessionStore), keyed by the SHA-256
//     of the cookie value (the raw value is never stored), with an idle
//     (SessionIdle, sliding) and an absolute (SessionMax) expiry. A restart
//     signs no one out, and any server on the same database serves any
//     session, so replicas need no sticky sessions. A request writes the
//     session's last use only when it is over SessionRefresh old; expired
//     sessions are swept at each sign-in. The cookie is HttpOnly,
//     SameSite=Lax, Secure over TLS.
//   - Every POST passes http.CrossOriginProtection and must carry the
//     session's CSRF token in a hidden field (the sign-in form a
//     double-submit cookie).
//   - A token's secret is shown once: it sits in a per-session slot for ten
//     minutes, the "Save your token" page shows it once, and the download
//     link serves it once, on whichever server. The slot is in the store,
//     sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the
//     cookie value, which only the browser holds; each use is claimed with
//     one conditional UPDATE, so two servers racing cannot both show it.
package console
