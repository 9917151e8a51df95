package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/logbookhq/logbook/events"
)

// cursorVersion is the first byte of every v1/v2 cursor; a new layout gets
// a new version and the old one keeps decoding. pageTokenVersion is the
// first byte of every v3 page token: the same layout under another byte,
// so that a page token is no cursor and a cursor no page token.
const (
	cursorVersion    = 1
	pageTokenVersion = 3
)

const tagLen = 16

var errBadCursor = errors.New("cursor is not valid")

// cursorState is what a cursor carries: whose stream, where in it, and the
// reset's page size and time filter, so that a client that sends only
// {"cursor": …} keeps getting the same view (design.md, "Cursors").
type cursorState struct {
	Account string // upper-case account UUID
	Feature events.Feature
	After   int64 // position already delivered
	Limit   int
	// Start is the inclusive lower bound on event time (v1, v2) or the
	// exclusive lower bound on insertion time (v3 page tokens).
	Start time.Time
	// End is the exclusive upper bound on event time (v1, v2) or on
	// insertion time (v3); zero: none.
	End time.Time
	// Hint is the time of the last event of the page the cursor came
	// from when that page had more after it (store.ListQuery.Hint); zero
	// otherwise. It is an optional last field: cursors sealed before it
	// existed decode with none.
	Hint time.Time
}

var featureCodes = map[events.Feature]byte{events.SignInAttempts: 1, events.ItemUsages: 2, events.AuditEvents: 3}

func featureOf(code byte) (events.Feature, bool) {
	for f, c := range featureCodes {
		if c == code {
			return f, true
		}
	}
	return "", false
}

var accountEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// cursorCodec seals cursor states with HMAC-SHA256 under a server-wide key.
// Sealing is deterministic: one state always gives the same string, so the
// end of a stream, re-encoding the state it decoded, answers with the
// cursor it was given (in its canonical form: decode accepts CR and LF
// anywhere, as encoding/base64 does, which is how a cursor stored with a
// trailing newline still works; it refuses non-zero trailing bits, so
// each state has one encoding besides those line breaks).
type cursorCodec struct {
	key []byte
	// macs, when set, keeps HMAC states keyed with key for reuse: a
	// fresh one costs more than the MAC of a cursor.
	macs *sync.Pool
}

func newCursorCodec(key []byte) cursorCodec {
	return cursorCodec{key: key, macs: &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

// tag appends the MAC of b to dst.
func (c cursorCodec) tag(dst, b []byte) []byte {
	if c.macs == nil {
		mac := hmac.New(sha256.New, c.key)
		mac.Write(b)
		return mac.Sum(dst)
	}
	mac := c.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write(b)
	dst = mac.Sum(dst)
	c.macs.Put(mac)
	return dst
}

// hintNanos is a hint's time in unix nanoseconds, 0 for none (the zero
// time, and the instant 0 itself, which is no loss for a guess).
func hintNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func (c cursorCodec) encode(s cursorState) string { return c.seal(cursorVersion, s) }

func (c cursorCodec) decode(str string) (cursorState, error) { return c.open(cursorVersion, str) }

// seal encodes s under the first byte version.
func (c cursorCodec) seal(version byte, s cursorState) string {
	acct, err := accountEncoding.DecodeString(s.Account)
	if err != nil || len(acct) != 16 {
		// Accounts are made by Logbook and always decode; keep the raw text
		// otherwise so the cursor still round-trips.
		acct = []byte(s.Account)
	}
	b := make([]byte, 0, 64)
	b = append(b, version, featureCodes[s.Feature], byte(len(acct)))
	b = append(b, acct...)
	b = binary.AppendUvarint(b, uint64(s.After))
	b = binary.AppendUvarint(b, uint64(s.Limit))
	b = binary.AppendVarint(b, s.Start.UnixNano())
	var end int64
	if !s.End.IsZero() {
		end = s.End.UnixNano()
	}
	b = binary.AppendVarint(b, end)
	if h := hintNanos(s.Hint); h != 0 {
		b = binary.AppendVarint(b, h)
	}
	b = c.tag(b, b)[:len(b)+tagLen]
	return base64.RawURLEncoding.EncodeToString(b)
}

// open decodes what seal sealed under version; any other first byte is
// errBadCursor.
func (c cursorCodec) open(version byte, str string) (cursorState, error) {
	if len(str) > 512 {
		return cursorState{}, errBadCursor
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(str)
	if err != nil || len(b) < 3+tagLen {
		return cursorState{}, errBadCursor
	}
	body, tag := b[:len(b)-tagLen], b[len(b)-tagLen:]
	var sum [sha256.Size]byte
	if !hmac.Equal(c.tag(sum[:0], body)[:tagLen], tag) {
		return cursorState{}, errBadCursor
	}
	if body[0] != version {
		return cursorState{}, errBadCursor
	}
	f, ok := featureOf(body[1])
	if !ok {
		return cursorState{}, errBadCursor
	}
	n := int(body[2])
	rest := body[3:]
	if len(rest) < n {
		return cursorState{}, errBadCursor
	}
	var s cursorState
	s.Feature = f
	if n == 16 {
		s.Account = accountEncoding.EncodeToString(rest[:n])
	} else {
		s.Account = string(rest[:n])
	}
	rest = rest[n:]
	after, k := binary.Uvarint(rest)
	if k <= 0 || after > 1<<62 {
		return cursorState{}, errBadCursor
	}
	rest = rest[k:]
	limit, k := binary.Uvarint(rest)
	if k <= 0 || limit < 1 || limit > maxLimit {
		return cursorState{}, errBadCursor
	}
	rest = rest[k:]
	start, k := binary.Varint(rest)
	if k <= 0 {
		return cursorState{}, errBadCursor
	}
	rest = rest[k:]
	end, k := binary.Varint(rest)
	if k <= 0 {
		return cursorState{}, errBadCursor
	}
	if rest = rest[k:]; len(rest) > 0 {
		// A hint of 0 is sealed as none: refuse it, so each state has
		// one encoding.
		hint, k := binary.Varint(rest)
		if k <= 0 || len(rest) != k || hint == 0 {
			return cursorState{}, errBadCursor
		}
		s.Hint = time.Unix(0, hint).UTC()
	}
	s.After, s.Limit = int64(after), int(limit)
	s.Start = time.Unix(0, start).UTC()
	if end != 0 {
		s.End = time.Unix(0, end).UTC()
	}
	if strings.TrimSpace(s.Account) == "" {
		return cursorState{}, errBadCursor
	}
	return s, nil
}
