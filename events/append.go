package events

import (
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// The appenders below write the events' JSON by hand, because Encode is on
// the ingestion hot path and encoding/json's reflection cost most of its
// time. They must produce exactly the bytes json.Marshal produces for the
// same value (and, with v1 set, for its V1() copy): the struct tags in
// event.go remain the definition, and the tests in append_test.go compare
// the two on fixtures, edge cases and fuzzed values. A field added to a
// type must be added here too; TestAppendersKnowEveryField fails until it
// is.
//
// What is matched: fields in struct order; omitempty as encoding/json
// applies it (empty string, zero number, nil pointer); "null" for a nil
// pointer without omitempty; encoding/json's HTML-safe string escaping;
// its float format; and time.Time's MarshalJSON.

// appendUser writes u. With v1 set it leaves out the v2-only fields, as
// User.v1 does.
func appendUser(b []byte, u *User, v1 bool) []byte {
	b = append(b, '{')
	if u.UUID != "" {
		b = append(b, `"uuid":`...)
		b = appendString(b, u.UUID)
		b = append(b, ',')
	}
	b = append(b, `"name":`...)
	b = appendString(b, u.Name)
	b = append(b, `,"email":`...)
	b = appendString(b, u.Email)
	if !v1 {
		if u.UserType != "" {
			b = append(b, `,"user_type":`...)
			b = appendString(b, u.UserType)
		}
		if u.UserAccountUUID != "" {
			b = append(b, `,"user_account_uuid":`...)
			b = appendString(b, u.UserAccountUUID)
		}
	}
	return append(b, '}')
}

// hasV2 reports whether u renders differently in v1.
func (u *User) hasV2() bool {
	return u != nil && (u.UserType != "" || u.UserAccountUUID != "")
}

func appendClient(b []byte, c *Client) []byte {
	b = append(b, `{"app_name":`...)
	b = appendString(b, c.AppName)
	b = append(b, `,"app_version":`...)
	b = appendString(b, c.AppVersion)
	b = append(b, `,"platform_name":`...)
	b = appendString(b, c.PlatformName)
	b = append(b, `,"platform_version":`...)
	b = appendString(b, c.PlatformVersion)
	b = append(b, `,"os_name":`...)
	b = appendString(b, c.OSName)
	b = append(b, `,"os_version":`...)
	b = appendString(b, c.OSVersion)
	b = append(b, `,"ip_address":`...)
	b = appendString(b, c.IPAddress)
	return append(b, '}')
}

// appendLocation writes l, whose fields are all optional.
func appendLocation(b []byte, l *Location) ([]byte, error) {
	b = append(b, '{')
	open := len(b)
	comma := func(b []byte) []byte {
		if len(b) > open {
			b = append(b, ',')
		}
		return b
	}
	if l.Country != "" {
		b = append(b, `"country":`...)
		b = appendString(b, l.Country)
	}
	if l.Region != "" {
		b = append(comma(b), `"region":`...)
		b = appendString(b, l.Region)
	}
	if l.City != "" {
		b = append(comma(b), `"city":`...)
		b = appendString(b, l.City)
	}
	var err error
	if l.Latitude != 0 {
		b = append(comma(b), `"latitude":`...)
		if b, err = appendFloat(b, l.Latitude); err != nil {
			return b, fmt.Errorf("location.latitude: %w", err)
		}
	}
	if l.Longitude != 0 {
		b = append(comma(b), `"longitude":`...)
		if b, err = appendFloat(b, l.Longitude); err != nil {
			return b, fmt.Errorf("location.longitude: %w", err)
		}
	}
	return append(b, '}'), nil
}

func appendSession(b []byte, s *Session) ([]byte, error) {
	b = append(b, '{')
	if s.UUID != "" {
		b = append(b, `"uuid":`...)
		b = appendString(b, s.UUID)
		b = append(b, ',')
	}
	b = append(b, `"login_time":`...)
	b, err := appendTime(b, s.LoginTime)
	if err != nil {
		return b, fmt.Errorf("session.login_time: %w", err)
	}
	if s.DeviceUUID != "" {
		b = append(b, `,"device_uuid":`...)
		b = appendString(b, s.DeviceUUID)
	}
	b = append(b, `,"ip":`...)
	b = appendString(b, s.IP)
	return append(b, '}'), nil
}

// The event appenders return, beside the bytes, where the trailing
// v2-only fields begin (-1 when none is present), so that Encode can
// derive the v1 rendering by cutting there. With v1 set those fields are
// not written.

func (e *SignInAttempt) appendJSON(b []byte, v1 bool) ([]byte, int, error) {
	b = append(b, `{"uuid":`...)
	b = appendString(b, e.UUID)
	b = append(b, `,"session_uuid":`...)
	b = appendString(b, e.SessionUUID)
	b = append(b, `,"timestamp":`...)
	b, err := appendTime(b, e.Timestamp)
	if err != nil {
		return b, -1, fmt.Errorf("timestamp: %w", err)
	}
	b = append(b, `,"country":`...)
	b = appendString(b, e.Country)
	b = append(b, `,"category":`...)
	b = appendString(b, e.Category)
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	if e.Details == nil {
		b = append(b, `,"details":null`...)
	} else {
		b = append(b, `,"details":{"value":`...)
		b = appendString(b, e.Details.Value)
		b = append(b, '}')
	}
	b = append(b, `,"target_user":`...)
	b = appendUser(b, &e.TargetUser, v1)
	b = append(b, `,"client":`...)
	b = appendClient(b, &e.Client)
	if e.Location != nil {
		b = append(b, `,"location":`...)
		if b, err = appendLocation(b, e.Location); err != nil {
			return b, -1, err
		}
	}
	cut := -1
	if !v1 && e.AccountUUID != "" {
		cut = len(b)
		b = append(b, `,"account_uuid":`...)
		b = appendString(b, e.AccountUUID)
	}
	return append(b, '}'), cut, nil
}

func (e *ItemUsage) appendJSON(b []byte, v1 bool) ([]byte, int, error) {
	b = append(b, `{"uuid":`...)
	b = appendString(b, e.UUID)
	b = append(b, `,"timestamp":`...)
	b, err := appendTime(b, e.Timestamp)
	if err != nil {
		return b, -1, fmt.Errorf("timestamp: %w", err)
	}
	b = append(b, `,"used_version":`...)
	b = strconv.AppendInt(b, int64(e.UsedVersion), 10)
	b = append(b, `,"vault_uuid":`...)
	b = appendString(b, e.VaultUUID)
	b = append(b, `,"item_uuid":`...)
	b = appendString(b, e.ItemUUID)
	b = append(b, `,"user":`...)
	b = appendUser(b, &e.User, v1)
	b = append(b, `,"client":`...)
	b = appendClient(b, &e.Client)
	if e.Location != nil {
		b = append(b, `,"location":`...)
		if b, err = appendLocation(b, e.Location); err != nil {
			return b, -1, err
		}
	}
	if e.Action != "" {
		b = append(b, `,"action":`...)
		b = appendString(b, e.Action)
	}
	cut := -1
	if !v1 && e.AccountUUID != "" {
		cut = len(b)
		b = append(b, `,"account_uuid":`...)
		b = appendString(b, e.AccountUUID)
	}
	return append(b, '}'), cut, nil
}

func (e *AuditEvent) appendJSON(b []byte, v1 bool) ([]byte, int, error) {
	b = append(b, `{"uuid":`...)
	b = appendString(b, e.UUID)
	b = append(b, `,"timestamp":`...)
	b, err := appendTime(b, e.Timestamp)
	if err != nil {
		return b, -1, fmt.Errorf("timestamp: %w", err)
	}
	if e.ActorUUID != "" {
		b = append(b, `,"actor_uuid":`...)
		b = appendString(b, e.ActorUUID)
	}
	if e.ActorDetails != nil {
		b = append(b, `,"actor_details":`...)
		b = appendUser(b, e.ActorDetails, v1)
	}
	b = append(b, `,"action":`...)
	b = appendString(b, e.Action)
	b = append(b, `,"object_type":`...)
	b = appendString(b, e.ObjectType)
	if e.ObjectUUID != nil {
		b = append(b, `,"object_uuid":`...)
		b = appendString(b, *e.ObjectUUID)
	}
	if e.ObjectDetails != nil {
		b = append(b, `,"object_details":`...)
		b = appendUser(b, e.ObjectDetails, v1)
	}
	if e.AuxID != 0 {
		b = append(b, `,"aux_id":`...)
		b = strconv.AppendInt(b, e.AuxID, 10)
	}
	if e.AuxUUID != "" {
		b = append(b, `,"aux_uuid":`...)
		b = appendString(b, e.AuxUUID)
	}
	if e.AuxDetails != nil {
		b = append(b, `,"aux_details":`...)
		b = appendUser(b, e.AuxDetails, v1)
	}
	if e.AuxInfo != "" {
		b = append(b, `,"aux_info":`...)
		b = appendString(b, e.AuxInfo)
	}
	if e.Session != nil {
		b = append(b, `,"session":`...)
		if b, err = appendSession(b, e.Session); err != nil {
			return b, -1, err
		}
	}
	if e.Location != nil {
		b = append(b, `,"location":`...)
		if b, err = appendLocation(b, e.Location); err != nil {
			return b, -1, err
		}
	}
	cut := -1
	if !v1 {
		if e.ActorType != "" || e.ActorAccountUUID != "" || e.AccountUUID != "" {
			cut = len(b)
		}
		if e.ActorType != "" {
			b = append(b, `,"actor_type":`...)
			b = appendString(b, e.ActorType)
		}
		if e.ActorAccountUUID != "" {
			b = append(b, `,"actor_account_uuid":`...)
			b = appendString(b, e.ActorAccountUUID)
		}
		if e.AccountUUID != "" {
			b = append(b, `,"account_uuid":`...)
			b = appendString(b, e.AccountUUID)
		}
	}
	return append(b, '}'), cut, nil
}

// appendTime writes t as time.Time.MarshalJSON does: RFC 3339 with
// trailing zeros of the fraction dropped, in t's own offset. Years outside
// 0..9999 and offsets of 24 hours or more are errors, as there.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	out, err := t.AppendText(b)
	if err != nil {
		return b, err
	}
	return append(out, '"'), nil
}

// appendFloat writes f as encoding/json does: like JavaScript's
// Number.prototype.toString, the shortest representation that round-trips,
// in exponent form only below 1e-6 or from 1e21 on, with the exponent not
// padded to two digits. NaN and infinities have no JSON form.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64))
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// strconv pads negative exponents to two digits: 1e-07 → 1e-7.
		// (Below 1e-6 the exponent is negative; 1e21 and up never have a
		// leading zero.)
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// plain marks the bytes that go into a JSON string as they are under
// encoding/json's default, HTML-safe escaping: printable ASCII and DEL,
// except the quote, the backslash and <, > and &. Bytes from 0x80 on start
// a multi-byte sequence, which appendString checks rune by rune.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way encoding/json does:
// quote, backslash and the control characters \b \f \n \r \t get short
// escapes; other control characters and <, > and & become \u00XX; U+2028
// and U+2029 become \u2028 and \u2029; each byte of invalid UTF-8 becomes
// \ufffd. Everything else is copied.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	i := 0
	for i < len(s) && plain[s[i]] {
		i++
	}
	if i == len(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
