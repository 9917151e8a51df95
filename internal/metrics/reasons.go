package metrics

import (
	"errors"
	"slices"
	"strings"

	"github.com/logbookhq/logbook/internal/api"
	"github.com/logbookhq/logbook/internal/token"
)

// Reasons of 401 replies, the values of logbook_http_unauthorized_total's
// reason label.
const (
	ReasonMissing        = "missing"         // no bearer token (Events API)
	ReasonMalformed      = "malformed"       // not a JWT we can read
	ReasonBadSignature   = "bad_signature"   // signature does not verify
	ReasonUnknownKey     = "unknown_key"     // signed by a key (kid) this server does not hold
	ReasonUnknownToken   = "unknown_token"   // well signed, but its jti is not a token of this server
	ReasonWrongAudience  = "wrong_audience"  // aud is another server's
	ReasonExpired        = "expired"         // past its expiry
	ReasonRevoked        = "revoked"         // revoked
	ReasonMissingFeature = "missing_feature" // the token lacks the route's feature
	ReasonIngestKey      = "ingest_key"      // ingestion without a valid ingest key
	ReasonAdminKey       = "admin_key"       // admin API without a valid admin key
	ReasonConsole        = "console"         // console sign-in refused or session ended
	ReasonScenario       = "scenario"        // a sandbox scenario's fault (revoke_token, status_429)
	ReasonOther          = "other"           // anything else
)

// Reasons of 429 replies, the values of logbook_http_too_many_requests_total's
// reason label (with ReasonScenario and ReasonOther).
const (
	ReasonRatePerMinute  = "rate_per_minute"  // the account's --rate-per-minute
	ReasonRatePerHour    = "rate_per_hour"    // the account's --rate-per-hour
	ReasonRateLimit      = "rate_limit"       // another rate-limit window (set in code)
	ReasonIngestInFlight = "ingest_in_flight" // --ingest-max-in-flight bytes already held
	ReasonConsoleSignIn  = "console_signin"   // too many failed console sign-ins
)

// UnauthorizedReasons is the closed set of 401 reasons.
var UnauthorizedReasons = []string{ReasonMissing, ReasonMalformed, ReasonBadSignature, ReasonUnknownKey,
	ReasonUnknownToken, ReasonWrongAudience, ReasonExpired, ReasonRevoked, ReasonMissingFeature,
	ReasonIngestKey, ReasonAdminKey, ReasonConsole, ReasonScenario, ReasonOther}

// TooManyRequestsReasons is the closed set of 429 reasons.
var TooManyRequestsReasons = []string{ReasonRatePerMinute, ReasonRatePerHour, ReasonRateLimit,
	ReasonIngestInFlight, ReasonConsoleSignIn, ReasonScenario, ReasonOther}

// UnauthorizedReason maps an Events API authentication error (what
// api.Config.Failed is told with a 401) to its reason. The order matters:
// an unknown key is also a bad signature.
func UnauthorizedReason(err error) string {
	for _, c := range []struct {
		err    error
		reason string
	}{
		{api.ErrNoToken, ReasonMissing},
		{token.ErrUnknownKey, ReasonUnknownKey},
		{token.ErrSignature, ReasonBadSignature},
		{token.ErrMalformed, ReasonMalformed},
		{token.ErrUnknown, ReasonUnknownToken},
		{token.ErrAudience, ReasonWrongAudience},
		{token.ErrExpired, ReasonExpired},
		{token.ErrRevoked, ReasonRevoked},
		{token.ErrFeature, ReasonMissingFeature},
	} {
		if errors.Is(err, c.err) {
			return c.reason
		}
	}
	return ReasonOther
}

// DefaultReason is the reason of a 401 or 429 that no hook explained,
// from the surface its route belongs to: ingestion answers 401 only for a
// bad ingest key and 429 only when its in-flight budget is spent; the
// console 401s sign-ins and ended sessions and 429s repeated failed
// sign-ins; the admin API 401s bad admin keys.
func DefaultReason(route string, status int) string {
	_, path, ok := strings.Cut(route, " ")
	if !ok {
		path = route
	}
	switch {
	case strings.HasPrefix(path, "/api/v2/ingest/"):
		if status == 401 {
			return ReasonIngestKey
		}
		return ReasonIngestInFlight
	case strings.HasPrefix(path, "/console"):
		if status == 401 {
			return ReasonConsole
		}
		return ReasonConsoleSignIn
	case strings.HasPrefix(path, "/admin/api/") && status == 401:
		return ReasonAdminKey
	}
	return ReasonOther
}

// checkReason returns reason if it is in set, DefaultReason when it is
// empty, and ReasonOther otherwise: a label value is never outside the set.
func checkReason(reason, route string, status int, set []string) string {
	if reason == "" {
		reason = DefaultReason(route, status)
	}
	if !slices.Contains(set, reason) {
		return ReasonOther
	}
	return reason
}
