package ingest

import (
	"crypto/sha256"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/logbookhq/logbook/events"
)

// MaxFieldLen is the longest string any field of an ingested event may
// hold, in bytes. 1Password documents no limit; this one keeps a single
// event far below the body limit while leaving room for long names, e-mail
// addresses and aux_info values.
const MaxFieldLen = 1024

// FieldError is one reason an event was refused: the 1-based element (JSON
// array) or line (NDJSON) it was found at, the field's dotted path, and why.
type FieldError struct {
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (e FieldError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Reason)
}

// checker gathers the field errors of one event. Its methods take a
// field's path as its parent's path ("" at the top) and its name, joined
// only when the field is wrong.
type checker struct {
	line int
	errs []FieldError
}

func (c *checker) fail(parent, name, format string, args ...any) {
	field := name
	if parent != "" {
		field = parent + "." + name
	}
	c.errs = append(c.errs, FieldError{Line: c.line, Field: field, Reason: fmt.Sprintf(format, args...)})
}

// text checks a free string: at most MaxFieldLen bytes of valid UTF-8.
func (c *checker) text(parent, name, v string, required bool) {
	switch {
	case v == "" && required:
		c.fail(parent, name, "is required")
	case len(v) > MaxFieldLen:
		c.fail(parent, name, "is %d bytes long, more than %d", len(v), MaxFieldLen)
	case !utf8.ValidString(v):
		c.fail(parent, name, "is not valid UTF-8")
	}
}

// idChars tells, for each byte, the cases of id it may appear in: the
// digits 2–7 in both, letters in their own.
var idChars = func() (t [256]uint8) {
	for c := '2'; c <= '7'; c++ {
		t[c] = upperID | lowerID
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = upperID
		t[c+'a'-'A'] = lowerID
	}
	return t
}()

const (
	upperID = 1 << iota
	lowerID
)

// idCase returns the cases (upperID, lowerID) s is an id of: as
// events.ValidUpperID and events.ValidLowerID tell, in one pass.
func idCase(s string) uint8 {
	if len(s) != events.IDLen {
		return 0
	}
	cases := uint8(upperID | lowerID)
	for i := 0; i < len(s); i++ {
		cases &= idChars[s[i]]
	}
	return cases
}

// upperID checks an event, user, session or account id.
func (c *checker) upperID(parent, name, v string, required bool) {
	c.id(parent, name, v, required, upperID, "upper-case ")
}

// lowerID checks a vault, item or device id.
func (c *checker) lowerID(parent, name, v string, required bool) {
	c.id(parent, name, v, required, lowerID, "lower-case ")
}

// anyID checks an id that may be of either case (audit object and aux
// uuids name users as well as vaults and items).
func (c *checker) anyID(parent, name, v string) {
	c.id(parent, name, v, false, upperID|lowerID, "")
}

// id checks an id of one of cases, which the reason calls what.
func (c *checker) id(parent, name, v string, required bool, cases uint8, what string) {
	switch {
	case v == "":
		if required {
			c.fail(parent, name, "is required")
		}
	case idCase(v)&cases == 0:
		c.fail(parent, name, "%s is not a 26-character %sbase32 id", quote(v), what)
	}
}

// email checks that a non-empty v looks like an e-mail address.
func (c *checker) email(parent, name, v string) {
	if v != "" && !strings.Contains(v, "@") {
		c.fail(parent, name, "%s is not an e-mail address", quote(v))
	}
}

// between checks that v is a number from lo to hi. It is small enough to
// be inlined, as the check was before it was generated; outside is not.
func (c *checker) between(parent, name string, v, lo, hi float64) {
	if math.IsNaN(v) || v < lo || v > hi {
		c.outside(parent, name, v, lo, hi)
	}
}

//go:noinline
func (c *checker) outside(parent, name string, v, lo, hi float64) {
	c.fail(parent, name, "%v is not between %v and %v", v, lo, hi)
}

func (c *checker) enum(parent, name, v string, list []string, required bool) {
	switch {
	case v == "":
		if required {
			c.fail(parent, name, "is required")
		}
	case !events.In(v, list):
		c.fail(parent, name, "%s is not one of %s", quote(v), strings.Join(list, ", "))
	}
}

func (c *checker) ip(parent, name, v string, required bool) {
	switch {
	case v == "":
		if required {
			c.fail(parent, name, "is required")
		}
	default:
		if _, err := netip.ParseAddr(v); err != nil {
			c.fail(parent, name, "%s is not an IP address", quote(v))
		}
	}
}

// stamp parses an RFC 3339 timestamp and returns it in UTC.
func (c *checker) stamp(parent, name, v string) time.Time {
	if t, ok := parseUTCStamp(v); ok {
		return t
	}
	if v == "" {
		c.fail(parent, name, "is required")
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		c.fail(parent, name, "%s is not an RFC 3339 timestamp", quote(v))
		return time.Time{}
	}
	if t.Year() < 2000 || t.Year() > 9999 {
		c.fail(parent, name, "%s is outside the years 2000–9999", quote(v))
		return time.Time{}
	}
	return t.UTC()
}

// parseUTCStamp parses the form events are written in,
// 2006-01-02T15:04:05Z with up to 9 digits of fraction, for the years
// 2000–9999, as time.Parse does; ok is false for anything else, which
// may still be a valid timestamp.
func parseUTCStamp(v string) (t time.Time, ok bool) {
	if len(v) < 20 || len(v) > 30 || v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' || v[16] != ':' || v[len(v)-1] != 'Z' {
		return time.Time{}, false
	}
	num := func(s string) int {
		n := 0
		for i := 0; i < len(s); i++ {
			d := s[i] - '0'
			if d > 9 {
				return -1
			}
			n = n*10 + int(d)
		}
		return n
	}
	year, month, day := num(v[0:4]), num(v[5:7]), num(v[8:10])
	hour, minute, sec := num(v[11:13]), num(v[14:16]), num(v[17:19])
	nsec := 0
	if frac := v[19 : len(v)-1]; frac != "" {
		if frac[0] != '.' || len(frac) == 1 {
			return time.Time{}, false
		}
		if nsec = num(frac[1:]); nsec < 0 {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			nsec *= 10
		}
	}
	if year < 2000 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

func daysIn(month, year int) int {
	if month == 2 {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + (month+month/8)%2
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:61] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// The per-field checks, the input shapes they read and the conversion to
// events are generated from events/event.go into check_gen.go by
// internal/eventgen. The rules across fields are the hooks below, named by
// check:"hook=…" tags.

// signInType checks a sign-in attempt's type against its category.
func (c *checker) signInType(in *signInAttemptIn) {
	types, ok := events.SignInTypesByCategory[in.Category]
	if !ok {
		return // the category is wrong, and reported
	}
	if in.Type == "" {
		c.fail("", "type", "is required")
	} else if !events.In(in.Type, types) {
		if events.In(in.Type, events.SignInTypes) {
			c.fail("", "type", "%s does not belong to category %s (want one of %s)", quote(in.Type), in.Category, strings.Join(types, ", "))
		} else {
			c.fail("", "type", "%s is not a sign-in type", quote(in.Type))
		}
	}
}

// auditActions is events.AuditActions as a set: the list is long.
var auditActions = func() map[string]bool {
	m := make(map[string]bool, len(events.AuditActions))
	for _, a := range events.AuditActions {
		m[a] = true
	}
	return m
}()

// auditAction checks an audit event's object_type, then its action
// against the actions of that object type.
func (c *checker) auditAction(in *auditEventIn) {
	acts, catalogued := events.AuditCatalog[in.ObjectType]
	if !catalogued {
		// The catalogue is the authority: it has miguser, which the 1.4.1
		// enumeration lacks.
		c.enum("", "object_type", in.ObjectType, events.AuditObjectTypes, true)
	}
	knownAction := auditActions[in.Action]
	switch {
	case in.Action == "":
		c.fail("", "action", "is required")
	case !knownAction:
		c.fail("", "action", "%s is not one of %s", quote(in.Action), strings.Join(events.AuditActions, ", "))
	case catalogued && !events.In(in.Action, acts):
		c.fail("", "action", "%s is not an action on object_type %s (want one of %s)", quote(in.Action), in.ObjectType, strings.Join(acts, ", "))
	}
}

// uuidPrefix is how every encoded event begins: uuid is the first field of
// all three kinds.
const uuidPrefix = `{"uuid":"`

// assignUUID gives an event sent without a uuid one derived from its
// canonical bytes, so that sending the same event twice still stores it
// once. w was encoded with an empty uuid.
func assignUUID(w *events.Wire) {
	sum := sha256.Sum256(w.V2)
	var b [16]byte
	copy(b[:], sum[:])
	id := events.IDFromBytes(b)
	w.UUID = id
	w.V2 = spliceUUID(w.V2, id)
	if w.V1 != nil {
		w.V1 = spliceUUID(w.V1, id)
	}
}

func spliceUUID(b []byte, id string) []byte {
	out := make([]byte, 0, len(b)+len(id))
	out = append(out, uuidPrefix...)
	out = append(out, id...)
	return append(out, b[len(uuidPrefix):]...)
}
