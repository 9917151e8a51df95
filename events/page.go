package events

import (
	"encoding/json"
	"time"
)

// ResetCursor is the request body that starts (or restarts) a stream. A
// nil field is absent; the server then applies its default (limit 100,
// start one hour before end or now, no end).
type ResetCursor struct {
	Limit     int        `json:"limit,omitempty"`
	StartTime *time.Time `json:"start_time,omitempty"`
	EndTime   *time.Time `json:"end_time,omitempty"`
}

// CursorRequest is the request body that continues a stream.
type CursorRequest struct {
	Cursor string `json:"cursor"`
}

// Page is one response of an event endpoint. Items is never nil when a
// page is encoded by Logbook: an empty page has "items": [].
type Page[T any] struct {
	Cursor  string `json:"cursor"`
	HasMore bool   `json:"has_more"`
	Items   []T    `json:"items"`
}

// RawPage is a page whose events are kept as the bytes the server sent, for
// callers that pass events through without decoding them.
type RawPage = Page[json.RawMessage]

// IntrospectionV1 is the reply of GET /api/auth/introspect.
type IntrospectionV1 struct {
	UUID     string    `json:"UUID"`
	IssuedAt time.Time `json:"IssuedAt"`
	Features []Feature `json:"Features"`
}

// Introspection is the reply of GET /api/v2/auth/introspect. UUID is the
// integration's, not the token's.
type Introspection struct {
	UUID        string    `json:"uuid"`
	IssuedAt    time.Time `json:"issued_at"`
	Features    []Feature `json:"features"`
	AccountUUID string    `json:"account_uuid,omitempty"`
}

// ErrorBody is the body of every error reply: {"Error":{"Message":"..."}}.
type ErrorBody struct {
	Error struct {
		Message string `json:"Message"`
	} `json:"Error"`
}

// V3Query is the query of GET /api/v3/auditevents (docs/v3.md). A
// non-empty PageToken continues a listing (the times must then be nil);
// otherwise StartTime and EndTime are exclusive bounds on insertion time,
// nil when absent. MaxPageSize 0 is the server's default.
type V3Query struct {
	MaxPageSize int
	StartTime   *time.Time
	EndTime     *time.Time
	PageToken   string
}

// PageV3 is one reply of GET /api/v3/auditevents. NextPageToken is empty
// when no more events exist for the query's window.
type PageV3[T any] struct {
	AuditEvents   []T    `json:"audit_events"`
	NextPageToken string `json:"next_page_token,omitempty"`
}
