package events

import (
	"fmt"
	"strings"
)

// Feature names one event stream and the token scope that opens it. The
// string values are the ones carried in a token's "1password.com/fts" claim
// and in introspection replies.
type Feature string

// The three features of the Events API.
const (
	SignInAttempts Feature = "signinattempts"
	ItemUsages     Feature = "itemusages"
	AuditEvents    Feature = "auditevents"
)

// AllFeatures lists every feature in the order introspection reports them
// (alphabetical, as the real API does).
var AllFeatures = []Feature{AuditEvents, ItemUsages, SignInAttempts}

// Valid reports whether f is one of the three features.
func (f Feature) Valid() bool {
	switch f {
	case SignInAttempts, ItemUsages, AuditEvents:
		return true
	}
	return false
}

// ParseFeature returns the feature named s.
func ParseFeature(s string) (Feature, error) {
	f := Feature(strings.TrimSpace(s))
	if !f.Valid() {
		return "", fmt.Errorf("unknown feature %q (want signinattempts, itemusages or auditevents)", s)
	}
	return f, nil
}

// ParseFeatures parses a comma-separated list such as
// "signinattempts,itemusages". The result is de-duplicated and sorted like
// AllFeatures. An empty list is an error.
func ParseFeatures(s string) ([]Feature, error) {
	seen := map[Feature]bool{}
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		f, err := ParseFeature(part)
		if err != nil {
			return nil, err
		}
		seen[f] = true
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("no feature given (want any of signinattempts, itemusages, auditevents)")
	}
	return SortFeatures(seen), nil
}

// SortFeatures returns the features present in set, ordered like AllFeatures.
func SortFeatures(set map[Feature]bool) []Feature {
	out := make([]Feature, 0, len(set))
	for _, f := range AllFeatures {
		if set[f] {
			out = append(out, f)
		}
	}
	return out
}

// JoinFeatures renders fs as a comma-separated list.
func JoinFeatures(fs []Feature) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = string(f)
	}
	return strings.Join(parts, ",")
}
