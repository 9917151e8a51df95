// Package store is Logbook's persistence contract. Two implementations
// satisfy it, internal/store/sqlite (the embedded default) and
// internal/store/postgres, and both must pass the shared behavioural suite
// in internal/store/storetest.
//
// Nothing above this package sees a driver type: implementations translate
// "no rows" into ErrNotFound and unique violations into ErrConflict.
//
// What the backends share is written here once: the input checks
// (check.go), reading rows into this package's types (scan.go) and the
// migration runner (migration.go), to which each backend supplies its
// migrations, its transaction and its lock. The operations whose SQL is
// the same on both backends are written once in internal/store/sqlstore;
// the events' SQL stays with each backend.
package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
)

// Errors every implementation returns for the conditions callers branch on.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
)

// UUIDConflict is AppendEvents' error for a record whose UUID the stream
// already holds (or the call holds earlier) as another event: another Time,
// or the same Time with other V2 bytes. Nothing of the call is stored.
// Errors wrapping it match ErrConflict.
type UUIDConflict struct {
	// Index is the record's index in the call.
	Index int
	UUID  string
	// Held is the Time of the event held under UUID.
	Held time.Time
	// InCall is set when the event held came earlier in the same call.
	InCall bool
}

func (e *UUIDConflict) Error() string {
	where := "the stream holds"
	if e.InCall {
		where = "an earlier record holds"
	}
	return fmt.Sprintf("record %d: uuid %s: %s another event under it (timestamp %s)",
		e.Index, e.UUID, where, e.Held.UTC().Format(time.RFC3339Nano))
}

func (e *UUIDConflict) Is(target error) bool { return target == ErrConflict }

// Store is everything Logbook keeps. Each method runs in its own
// transaction; callers never see one.
type Store interface {
	EventStore
	AccountStore
	IntegrationStore
	KeyStore
	CounterStore
	SessionStore
	TreeStore
	// Migrate applies the embedded migrations not yet recorded in
	// schema_migrations, each in its own transaction. It is safe to call
	// from several processes at once.
	Migrate(ctx context.Context) error
	Close() error
}

// Record is one event as stored: its wire bytes in both renderings, written
// once at ingestion and spliced into pages as they are.
type Record struct {
	UUID string
	// Time is the event's own timestamp.
	Time time.Time
	// Label is the event's category (sign-ins), action (item usages) or
	// "action/object_type" (audit events); kept for the dashboard.
	Label string
	// V2 is the event's JSON as /api/v2 serves it.
	V2 []byte
	// V1 is the JSON /api/v1 serves, or nil when it equals V2.
	V1 []byte
}

// Row is one event read back for a page.
type Row struct {
	Seq  int64
	Time time.Time
	// Inserted is when the store appended the event (its insertion time,
	// UTC; see EventStore), read only when the query's WithInserted is
	// set (zero otherwise).
	Inserted time.Time
	// Data is the rendering asked for. It may alias a buffer reused by the
	// next call on the same Rows; copy it to keep it.
	Data []byte
}

// ListQuery selects the next events of one stream, in ingestion order.
type ListQuery struct {
	Account string
	Feature events.Feature
	// After is the position already delivered: rows have Seq > After.
	After int64
	// Start and End filter on the event timestamp: Start <= t < End. A zero
	// End means no end.
	Start, End time.Time
	// InsertedAfter and InsertedBefore filter on the insertion time, both
	// exclusive: InsertedAfter < inserted < InsertedBefore. A zero value
	// means no bound. Insertion times grow with positions, so the rows
	// inserted after a time are the positions above one point.
	InsertedAfter, InsertedBefore time.Time
	// WithInserted asks for each row's insertion time (Row.Inserted), one
	// more lookup per page.
	WithInserted bool
	// Limit is the most rows returned.
	Limit int
	// V1 selects the v1 rendering.
	V1 bool
	// Hint, when not zero, is the time of an event at or just before
	// After (the last one a page served): a guess of where the page
	// starts, which a store may use to read it sooner. Any value gives
	// the same answer; a store may ignore it.
	Hint time.Time
	// Each, when set, is handed the page's rows in order as they are
	// read, and ListResult.Rows stays empty: the serving path splices
	// them into its response without the store copying them into a page
	// of its own. A row's Data is valid only during the call. It cannot
	// be combined with WithInserted.
	Each func(Row)
}

// ListResult is the answer to a ListQuery.
type ListResult struct {
	Rows []Row
	// Last is the position to continue from: the Seq of the last row, or,
	// when rows were skipped by the time filter, the last position scanned.
	// It is never less than the query's After.
	Last int64
	// More is true when at least one more row matching the query exists
	// after Last right now.
	More bool
}

// EventStore appends and lists events. The position of an event (its Seq)
// grows with ingestion order within a stream (account, feature), and an
// event becomes visible to ListEvents only after every event with a lower
// Seq in that stream is visible: a reader that has passed position N never
// misses an event later committed below N.
//
// Each append records one insertion time for all the events it stores:
// the store's clock when it appends, raised if need be to one nanosecond
// after the stream's latest insertion time, so that insertion times grow
// strictly from one append to the next and never decrease with positions.
// A reader that has seen every event inserted up to T therefore misses
// none by next asking for those inserted after T.
type EventStore interface {
	// AppendEvents stores recs in the stream of (account, feature), in
	// order, skipping any the stream already holds, and returns how many
	// were new; the new ones share one insertion time. A record is already held when one with the same UUID, Time
	// and V2 is (the same event sent twice, also within recs). A UUID
	// held as another event (another Time, or other V2) is a
	// *UUIDConflict: nothing of the call is stored. It is atomic: all new
	// records or none, durable on return.
	AppendEvents(ctx context.Context, account string, feature events.Feature, recs []Record) (inserted int, err error)
	// AppendEventsSeq is AppendEvents of the records recs yields, which a
	// store may append as they come, while its transaction is open, so
	// that the caller's producing them (decoding a request, say) overlaps
	// the store's work. If recs yields an error, or a record fails the
	// checks of AppendEvents, nothing of the call is stored and the error
	// is returned (wrapped). A store may hold its write lock while recs
	// runs: produce records without waiting on anything else.
	AppendEventsSeq(ctx context.Context, account string, feature events.Feature, recs iter.Seq2[Record, error]) (inserted int, err error)
	// ListEvents returns the next rows of a stream.
	ListEvents(ctx context.Context, q ListQuery) (ListResult, error)
	// ListEventsWithToken is the serving path's ListEvents: it reads the
	// token tokenID as IntegrationStore.Token does (an error wrapping
	// ErrNotFound when there is none), hands it to check, and only when
	// check returns nil lists q as ListEvents would; otherwise it returns
	// check's error as it is and reads no events. The token handed to
	// check is the stored row as of the call: a store may reuse a row it
	// read only when it can prove nothing was committed since (SQLite:
	// the read connection's PRAGMA data_version), so that a revocation
	// takes effect on the next request on every server. It lets a store
	// save what two calls
	// would cost (PostgreSQL sends the token query and the page's bounds
	// in one round trip; SQLite reads both on one connection with
	// statements kept prepared). check must not block.
	ListEventsWithToken(ctx context.Context, tokenID string, q ListQuery, check func(Token) error) (ListResult, error)
	// StartPosition returns a position before every event of the stream
	// whose timestamp is >= start, so that listing from it with Start set
	// misses none. It may be lower than necessary, never higher.
	StartPosition(ctx context.Context, account string, feature events.Feature, start time.Time) (int64, error)
	// HeadPosition returns the highest position of the stream (0 if empty).
	HeadPosition(ctx context.Context, account string, feature events.Feature) (int64, error)
	// DeleteEventsBefore removes events whose timestamp is before t, for
	// retention, and returns how many were removed from each stream (only
	// streams that lost events, ordered by account then feature). On an
	// error it returns what was removed before it.
	DeleteEventsBefore(ctx context.Context, t time.Time) ([]StreamCount, error)
	// CountEvents returns counts of events in a stream grouped by Label and
	// by hour of the event timestamp, for t in [from, to).
	CountEvents(ctx context.Context, account string, feature events.Feature, from, to time.Time) ([]LabelCount, error)
}

// TreeStore reads the Merkle tree (RFC 6962, internal/merkle) each
// stream keeps over its events' V2 bytes in position order. AppendEvents
// grows it in the append's transaction: each new event gets the next leaf
// index and its leaf hash, and the stream's tree head (size and frontier)
// moves on. Retention keeps the index and leaf hash of what it deletes.
type TreeStore interface {
	// Streams lists every stream, ordered by account then feature (N is
	// the size of its tree).
	Streams(ctx context.Context) ([]StreamCount, error)
	// ReadTree reads, in one snapshot, the stream's tree head and then
	// its rows in position order, each handed to fn (whose Data may alias
	// a buffer reused for the next row). An error from fn stops the scan
	// and is returned (wrapped) with the head.
	ReadTree(ctx context.Context, account string, feature events.Feature, fn func(TreeRow) error) (TreeHead, error)
	// TreeHead returns the stream's tree head as stored now (the zero
	// head for a stream never written).
	TreeHead(ctx context.Context, account string, feature events.Feature) (TreeHead, error)

	// AddSignedHead stores a signed head of the stream: ErrConflict if
	// one of that size is stored, ErrNotFound if the stream does not
	// exist.
	AddSignedHead(ctx context.Context, account string, feature events.Feature, h SignedHead) error
	// SignedHeads lists the stream's signed heads by size.
	SignedHeads(ctx context.Context, account string, feature events.Feature) ([]SignedHead, error)

	// AddTreeKey, TreeKeys and ReplaceTreeKeyPrivate are AddSigningKey,
	// SigningKeys and ReplaceSigningKeyPrivate on the keys that sign tree
	// heads, kept apart from the token keys.
	AddTreeKey(ctx context.Context, k SigningKey) error
	TreeKeys(ctx context.Context) ([]SigningKey, error)
	ReplaceTreeKeyPrivate(ctx context.Context, id string, old, new []byte) error
}

// SignedHead is a tree head the server signed: JWS is the signature over
// (stream, Size, Root, SignedAt), made with the tree key KeyID.
type SignedHead struct {
	Size     int64
	Root     []byte
	SignedAt time.Time
	KeyID    string
	JWS      string
}

// TreeHead is what a store keeps of a stream's tree: its size and the
// roots of its perfect subtrees, largest first (merkle.Frontier's bytes).
type TreeHead struct {
	Size     int64
	Frontier []byte
}

// TreeRow is one leaf of a stream's tree as stored.
type TreeRow struct {
	// Seq is the event's position in the stream.
	Seq int64
	// UUID is the event's uuid; empty when pruned.
	UUID string
	// Index is the leaf index stored with the event, -1 if none.
	Index int64
	// Leaf is the stored leaf hash, nil if none.
	Leaf []byte
	// Data is the event's V2 bytes; nil when retention removed the event
	// and kept only its leaf.
	Data []byte
	// Pruned is set for a leaf whose event retention removed.
	Pruned bool
}

// StreamCount is a number of events of one stream.
type StreamCount struct {
	Account string
	Feature events.Feature
	N       int64
}

// TotalCount adds up the counts of cs.
func TotalCount(cs []StreamCount) int64 {
	var n int64
	for _, c := range cs {
		n += c.N
	}
	return n
}

// SortStreamCounts orders cs by account, then feature.
func SortStreamCounts(cs []StreamCount) {
	slices.SortFunc(cs, func(a, b StreamCount) int {
		if c := strings.Compare(a.Account, b.Account); c != 0 {
			return c
		}
		return strings.Compare(string(a.Feature), string(b.Feature))
	})
}

// LabelCount is the number of events with one label in one hour.
type LabelCount struct {
	Hour  time.Time
	Label string
	N     int64
}

// SortLabelCounts orders cs by hour, then label.
func SortLabelCounts(cs []LabelCount) {
	slices.SortFunc(cs, func(a, b LabelCount) int {
		if c := a.Hour.Compare(b.Hour); c != 0 {
			return c
		}
		return strings.Compare(a.Label, b.Label)
	})
}

// Role is a user's role in an account.
type Role string

// The three roles. Only owners and administrators manage integrations.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "administrator"
	RoleMember Role = "member"
)

// Account is one tenant.
type Account struct {
	UUID      string
	Name      string
	CreatedAt time.Time
	// ServeWindow is how far back the Events API serves the account's
	// events: 0 is the server's window (serve --serve-window), ServeForever
	// no bound; otherwise whole seconds. Older events stay stored.
	ServeWindow time.Duration
}

// ServeForever is an Account.ServeWindow without bound.
const ServeForever time.Duration = -1

// User is a person in an account.
type User struct {
	UUID         string
	AccountUUID  string
	Name         string
	Email        string
	Role         Role
	PasswordHash string // empty when the user has no console password
	CreatedAt    time.Time
}

// AccountStore keeps accounts and their users.
type AccountStore interface {
	CreateAccount(ctx context.Context, a Account) error
	Account(ctx context.Context, uuid string) (Account, error)
	// AccountByName returns the account with that name (names are unique).
	AccountByName(ctx context.Context, name string) (Account, error)
	Accounts(ctx context.Context) ([]Account, error)
	// SetServeWindow sets the account's ServeWindow; ErrNotFound if there
	// is no such account.
	SetServeWindow(ctx context.Context, uuid string, w time.Duration) error

	CreateUser(ctx context.Context, u User) error
	User(ctx context.Context, uuid string) (User, error)
	// UserByEmail looks a user up by e-mail within one account.
	UserByEmail(ctx context.Context, account, email string) (User, error)
	Users(ctx context.Context, account string) ([]User, error)
	UpdateUser(ctx context.Context, u User) error
}

// Integration is an Events Reporting integration.
type Integration struct {
	UUID        string
	AccountUUID string
	Name        string
	SIEM        string
	CreatedAt   time.Time
	CreatedBy   string // user UUID, empty when made by the CLI without one
	DeletedAt   time.Time
}

// Token is an issued bearer token. Only its hash is kept.
type Token struct {
	ID              string // the JWT's jti
	IntegrationUUID string
	AccountUUID     string
	Name            string
	Features        []events.Feature
	KeyID           string
	// Hash is SHA-256 of the whole token string.
	Hash       []byte
	IssuedAt   time.Time
	ExpiresAt  time.Time // zero: never
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// IntegrationStore keeps integrations and their tokens.
type IntegrationStore interface {
	CreateIntegration(ctx context.Context, in Integration) error
	Integration(ctx context.Context, uuid string) (Integration, error)
	Integrations(ctx context.Context, account string) ([]Integration, error)
	UpdateIntegration(ctx context.Context, in Integration) error

	CreateToken(ctx context.Context, t Token) error
	Token(ctx context.Context, id string) (Token, error)
	Tokens(ctx context.Context, integration string) ([]Token, error)
	// AccountTokens lists every token of an account.
	AccountTokens(ctx context.Context, account string) ([]Token, error)
	UpdateToken(ctx context.Context, t Token) error
	// TouchToken sets LastUsedAt.
	TouchToken(ctx context.Context, id string, at time.Time) error
}

// SigningKey is an ES256 key that signs tokens.
type SigningKey struct {
	ID        string // the JWT kid
	Private   []byte // PKCS#8 DER
	CreatedAt time.Time
	// Active marks the key new tokens are signed with; exactly one is.
	Active bool
}

// APIKey is a credential for a surface other than the Events API: the
// admin API ("admin") or ingestion ("ingest").
type APIKey struct {
	ID          string
	Kind        string
	AccountUUID string
	UserUUID    string // admin keys: the user they act as
	Name        string
	Hash        []byte // SHA-256 of the secret
	CreatedAt   time.Time
	RevokedAt   time.Time
	// LastUsedAt is set by TouchAPIKey only; CreateAPIKey and
	// UpdateAPIKey leave it as stored.
	LastUsedAt time.Time
}

// KeyStore keeps signing keys, API keys and server settings.
type KeyStore interface {
	// AddSigningKey stores k; if k.Active, every other key becomes inactive.
	AddSigningKey(ctx context.Context, k SigningKey) error
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// ReplaceSigningKeyPrivate sets the Private bytes of the key id to
	// new if they are still old (compare and swap, so that two servers
	// re-encrypting one key at once cannot interleave): ErrNotFound if
	// there is no such key, ErrConflict if its bytes are no longer old.
	// Nothing else of the key changes.
	ReplaceSigningKeyPrivate(ctx context.Context, id string, old, new []byte) error

	CreateAPIKey(ctx context.Context, k APIKey) error
	APIKey(ctx context.Context, id string) (APIKey, error)
	APIKeys(ctx context.Context, account, kind string) ([]APIKey, error)
	// UpdateAPIKey replaces the name and revocation time of the key k.ID;
	// ErrNotFound if there is none.
	UpdateAPIKey(ctx context.Context, k APIKey) error
	// TouchAPIKey sets the key's LastUsedAt to at unless it is already at
	// or after at; ErrNotFound if there is no key with that id.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error

	// Setting returns a server-wide value, ErrNotFound if unset.
	Setting(ctx context.Context, name string) ([]byte, error)
	// InitSetting stores value under name unless one is already there, and
	// returns the value that is stored: the first writer wins, so several
	// servers starting at once agree (the cursor key, for example).
	InitSetting(ctx context.Context, name string, value []byte) ([]byte, error)
}

// CounterStore backs the shared parts of rate limiting and the connector
// scorecard, so that several servers on one database agree.
type CounterStore interface {
	// IncrCounter adds delta to the counter key in the fixed window starting
	// at window and returns the new value. Counters of windows that ended
	// before now minus a day may be dropped.
	IncrCounter(ctx context.Context, key string, window time.Time, delta int64) (int64, error)
}

// Session is one signed-in console browser. The cookie value itself is
// never stored: Hash is its SHA-256.
type Session struct {
	// Hash is SHA-256 of the cookie value (32 bytes); it names the session.
	Hash []byte
	// UUID and DeviceUUID are the session's identifiers in audit events.
	UUID        string
	DeviceUUID  string
	UserUUID    string
	AccountUUID string
	// CSRF is the token every form of the session carries.
	CSRF      string
	IP        string
	CreatedAt time.Time
	// LastSeenAt is when the session was last used, kept to within the
	// caller's refresh interval (TouchSession).
	LastSeenAt time.Time
	// ExpiresAt is when the session ends unless it is touched first.
	ExpiresAt time.Time
}

// SessionSecret is a newly issued token's secret waiting in a session for
// the "Save your token" page (shown once) and its download (served once).
// Sealed is the secret encrypted under a key only the browser can derive
// (from the cookie value, which the store never sees); the store keeps
// only the ciphertext.
type SessionSecret struct {
	SessionHash     []byte
	TokenID         string
	IntegrationUUID string
	Name            string
	Nonce           []byte
	Sealed          []byte
	ExpiresAt       time.Time
	Shown           bool
	Downloaded      bool
}

// SessionUse is what TakeSessionSecret marks used: the showing or the
// download.
type SessionUse int

// The two uses of a session secret.
const (
	UseShow SessionUse = iota
	UseDownload
)

// SessionStore keeps console sessions, so that any server on the database
// serves any session and a restart signs no one out.
type SessionStore interface {
	// CreateSession stores s; ErrConflict if its Hash is taken.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session named by hash, expired or not (the
	// caller decides); ErrNotFound if there is none.
	Session(ctx context.Context, hash []byte) (Session, error)
	// TouchSession sets the session's LastSeenAt to seen and ExpiresAt to
	// expires, but only when its LastSeenAt is before staleBefore, so that
	// a session used on every request is written at most once per
	// interval. It reports whether it wrote. A missing session is not an
	// error (false).
	TouchSession(ctx context.Context, hash []byte, seen, expires, staleBefore time.Time) (bool, error)
	// DeleteSession removes the session and its secrets; removing one that
	// is not there is not an error.
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteExpiredSessions removes sessions whose ExpiresAt is at or
	// before now, with their secrets, and secrets whose ExpiresAt is at or
	// before now; it returns how many sessions it removed.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
	// CountSessions returns how many sessions have not expired at now.
	CountSessions(ctx context.Context, now time.Time) (int, error)

	// PutSessionSecret stores sec (Shown and Downloaded are stored
	// false); ErrNotFound if its session does not exist, ErrConflict if
	// the session already holds a secret for the token.
	PutSessionSecret(ctx context.Context, sec SessionSecret) error
	// TakeSessionSecret marks the use of the secret of tokenID in the
	// session and returns it, if that use has not been made and the
	// secret has not expired at now; ErrNotFound otherwise. Each use
	// succeeds once, however many callers on however many servers race
	// for it: the mark is one conditional update. A secret used both ways
	// is removed.
	TakeSessionSecret(ctx context.Context, hash []byte, tokenID string, use SessionUse, now time.Time) (SessionSecret, error)
}

// Validate checks a session before it is stored.
func (s Session) Validate() error {
	switch {
	case len(s.Hash) != 32:
		return fmt.Errorf("hash: %d bytes, want 32 (SHA-256)", len(s.Hash))
	case s.UUID == "":
		return errors.New("uuid: empty")
	case s.UserUUID == "":
		return errors.New("user_uuid: empty")
	case s.AccountUUID == "":
		return errors.New("account_uuid: empty")
	case s.CSRF == "":
		return errors.New("csrf: empty")
	case s.CreatedAt.IsZero():
		return errors.New("created_at: zero")
	case s.ExpiresAt.IsZero():
		return errors.New("expires_at: zero")
	}
	return nil
}

// Validate checks a session secret before it is stored.
func (s SessionSecret) Validate() error {
	switch {
	case len(s.SessionHash) != 32:
		return fmt.Errorf("session_hash: %d bytes, want 32 (SHA-256)", len(s.SessionHash))
	case s.TokenID == "":
		return errors.New("token_id: empty")
	case len(s.Nonce) == 0:
		return errors.New("nonce: empty")
	case len(s.Sealed) == 0:
		return errors.New("sealed: empty")
	case s.ExpiresAt.IsZero():
		return errors.New("expires_at: zero")
	}
	return nil
}
