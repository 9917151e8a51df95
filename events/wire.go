package events

import (
	"fmt"
	"sync"
	"time"
)

// Wire is an event encoded for storage and transmission: its v2 JSON, its
// v1 JSON (nil when identical), and the few fields read from it.
type Wire struct {
	Feature Feature
	UUID    string
	Time    time.Time
	// Label is the sign-in category, the item-usage action, or
	// "action/object_type" for audit events.
	Label string
	V2    []byte
	V1    []byte
}

// Encode renders a *SignInAttempt, *ItemUsage or *AuditEvent (or the value
// types) in both API versions, byte for byte as json.Marshal renders the
// event and its V1() copy. V2 and V1 share one allocation of the exact
// size; V1 is nil when it would equal V2. The v1 rendering is derived from
// the v2 bytes when the difference is only v2's trailing top-level fields,
// which is the common case, so most events are rendered once. A nil pointer
// or a value of another type is an error, as are the values json.Marshal
// refuses (NaN or infinite coordinates, times outside years 0 to 9999).
func Encode(ev any) (Wire, error) {
	return encode(ev) // append_gen.go
}

// finish completes w from b, the scratch buffer *buf after rendering: its
// first n bytes are the v2 rendering. If cut is n, the v1 rendering
// follows them; if cut is below n, v1 is v2's first cut bytes, closed (cut
// is where v2's trailing v2-only fields begin); if cut is -1, v1 equals
// v2. V2 and V1 are copied out of the scratch buffer, which is returned to
// the pool, into one allocation of the exact size.
func (w Wire) finish(buf *[]byte, b []byte, n, cut int, err error) (Wire, error) {
	if err != nil {
		putScratch(buf, b)
		return Wire{}, fmt.Errorf("encode %s %s: %w", w.Feature, w.UUID, err)
	}
	if cut >= 0 && cut < n {
		b = append(b, b[:cut]...)
		b = append(b, '}')
	}
	out := make([]byte, len(b))
	copy(out, b)
	putScratch(buf, b)
	// The capacity of each part ends where it does, so that appending to
	// one cannot overwrite the other.
	w.V2 = out[:n:n]
	if len(out) > n {
		w.V1 = out[n:]
	}
	return w, nil
}

// scratch holds the buffers events are rendered into, so that an event
// costs one allocation of the size it needs.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func putScratch(buf *[]byte, b []byte) {
	if cap(b) > 64<<10 { // an outsized event; do not keep its buffer
		return
	}
	*buf = b[:0]
	scratch.Put(buf)
}
