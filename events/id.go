package events

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// IDs in the Events API are 26-character base32 strings (128 bits, no
// padding), not RFC 4122 UUIDs. Events, users, sessions and accounts use
// upper case; vaults, items and devices use lower case (spec §6.1).

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// IDLen is the length of every identifier.
const IDLen = 26

// IDFromBytes renders 16 bytes as an upper-case identifier.
func IDFromBytes(b [16]byte) string { return idEncoding.EncodeToString(b[:]) }

// NewID returns a random upper-case identifier, as used for events, users,
// sessions, accounts and integrations.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return IDFromBytes(b)
}

// NewLowerID returns a random lower-case identifier, as used for vaults,
// items and devices.
func NewLowerID() string { return strings.ToLower(NewID()) }

// ValidID reports whether s is a 26-character base32 identifier in one case.
func ValidID(s string) bool {
	if len(s) != IDLen {
		return false
	}
	upper, lower := true, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			lower = false
		case c >= 'a' && c <= 'z':
			upper = false
		case c >= '2' && c <= '7':
		default:
			return false
		}
	}
	return upper || lower
}

// ValidUpperID reports whether s is an upper-case identifier.
func ValidUpperID(s string) bool { return ValidID(s) && s == strings.ToUpper(s) }

// ValidLowerID reports whether s is a lower-case identifier.
func ValidLowerID(s string) bool { return ValidID(s) && s == strings.ToLower(s) }
