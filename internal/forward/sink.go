package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/logbookhq/logbook/events"
)

// Event is one event on its way to the sinks: the bytes the Events API
// sent, untouched, plus the few fields read from them.
type Event struct {
	UUID string
	Time time.Time
	Data json.RawMessage
}

// AppendOneLine appends doc, an event's Data, to dst as one line of a
// line-oriented format (NDJSON, syslog) without the newline: trimmed of
// surrounding white space, and compacted when the Events API sent it
// indented over several lines. A document that is not valid JSON is
// appended trimmed but otherwise as it is.
func AppendOneLine(dst, doc []byte) []byte {
	doc = bytes.TrimSpace(doc)
	if bytes.IndexByte(doc, '\n') < 0 {
		return append(dst, doc...)
	}
	buf := bytes.NewBuffer(dst)
	if json.Compact(buf, doc) != nil {
		return append(dst, doc...)
	}
	return buf.Bytes()
}

// Batch is one page of one stream.
type Batch struct {
	// Source is the configured name of the Events API the page came from.
	Source string
	// Account is the source account's uuid, as the source's introspection
	// reported it ("" when it reported none).
	Account string
	Feature events.Feature
	Events  []Event
}

// Sink is one destination. Implementations live in internal/sink/*.
type Sink interface {
	// Name is the configured name, used in logs, metrics and state.
	Name() string
	// Write delivers every event of b and returns nil only once the
	// destination has confirmed all of them, by the sink's own documented
	// meaning of "confirmed". It may be called again with the same batch
	// after an error or a crash, so destinations that can should de-duplicate
	// on Event.UUID.
	//
	// A *RejectedError says that some events were refused for good (a 4xx
	// for that event, say): the forwarder sends those to the dead-letter
	// directory and treats the rest of the batch as confirmed. Any other
	// error is temporary and the whole batch is retried with backoff.
	Write(ctx context.Context, b Batch) error
	// Close flushes and releases the sink.
	Close() error
}

// DuplicateCounter is a Sink that can tell how many events it was given
// again and absorbed (its destination already held them); the run summary
// reports the count.
type DuplicateCounter interface {
	Duplicates() int64
}

// Rejection is one event a sink refused for good.
type Rejection struct {
	// Index is the event's index in Batch.Events.
	Index  int
	Reason string
}

// RejectedError reports events a sink refused permanently.
type RejectedError struct {
	Rejected []Rejection
}

func (e *RejectedError) Error() string {
	if len(e.Rejected) == 1 {
		return fmt.Sprintf("1 event rejected: %s", e.Rejected[0].Reason)
	}
	return fmt.Sprintf("%d events rejected", len(e.Rejected))
}
