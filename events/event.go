package events

import "time"

// The structs below define the event shapes: their json tags the wire, api
// and check tags what JSON cannot say (internal/eventgen's doc). The V1
// methods and appenders (append_gen.go) and ingestion's reader and field
// checks (internal/ingest/read_gen.go, check_gen.go) are generated from
// them: after a change, run go generate.

//go:generate go run ../internal/eventgen -events . -ingest ../internal/ingest

// User is a person named in an event, with names and emails as they were
// when the event happened. UserType and UserAccountUUID exist only in v2
// renderings and only for cross-account (MSP) events.
type User struct {
	UUID            string `json:"uuid,omitempty" check:"upperid,ifrequired"`
	Name            string `json:"name"`
	Email           string `json:"email" check:"text,email"`
	UserType        string `json:"user_type,omitempty" api:"v2" check:"enum=UserTypes"`
	UserAccountUUID string `json:"user_account_uuid,omitempty" api:"v2" check:"upperid"`
}

// Client describes the app that produced an event.
type Client struct {
	AppName         string `json:"app_name" check:"required"`
	AppVersion      string `json:"app_version"`
	PlatformName    string `json:"platform_name"`
	PlatformVersion string `json:"platform_version"`
	OSName          string `json:"os_name"`
	OSVersion       string `json:"os_version"`
	IPAddress       string `json:"ip_address" check:"ip,required"`
}

// Location is where an event came from. Country is a country name here
// ("Canada"), unlike SignInAttempt.Country, which is an ISO code. A zero
// latitude or longitude is omitted, as captured data lacks coordinates
// when the lookup has none.
type Location struct {
	Country   string  `json:"country,omitempty"`
	Region    string  `json:"region,omitempty"`
	City      string  `json:"city,omitempty"`
	Latitude  float64 `json:"latitude,omitempty" check:"range=-90:90"`
	Longitude float64 `json:"longitude,omitempty" check:"range=-180:180"`
}

// Details carries the extra value of a sign-in attempt, such as the
// country or continent a firewall rule blocked.
type Details struct {
	Value string `json:"value"`
}

// Session is the session an audit event happened in. LoginTime equals the
// timestamp of the sign-in attempt that opened it.
type Session struct {
	UUID       string    `json:"uuid,omitempty" check:"upperid,required"`
	LoginTime  time.Time `json:"login_time"`
	DeviceUUID string    `json:"device_uuid,omitempty" check:"lowerid"`
	IP         string    `json:"ip" check:"ip,required"`
}

// SignInAttempt is one event of the signinattempts stream (spec §6.2).
// AccountUUID is v2 only and, like the real API, set only for MSP
// accounts. V1 (generated) keeps the v2-only "federated" type: v1 clients
// treat type as a free string.
type SignInAttempt struct {
	UUID        string    `json:"uuid" check:"upperid"`
	SessionUUID string    `json:"session_uuid" check:"upperid,required"`
	Timestamp   time.Time `json:"timestamp"`
	Country     string    `json:"country" check:"required"`
	Category    string    `json:"category" check:"enum=SignInCategories,required"`
	Type        string    `json:"type" check:"hook=signInType"`
	Details     *Details  `json:"details"`
	TargetUser  User      `json:"target_user" check:"required"`
	Client      Client    `json:"client" check:"required"`
	Location    *Location `json:"location,omitempty"`
	AccountUUID string    `json:"account_uuid,omitempty" api:"v2" check:"upperid"`
}

// ItemUsage is one event of the itemusages stream (spec §6.3).
type ItemUsage struct {
	UUID        string    `json:"uuid" check:"upperid"`
	Timestamp   time.Time `json:"timestamp"`
	UsedVersion int       `json:"used_version" check:"nonneg,required"`
	VaultUUID   string    `json:"vault_uuid" check:"lowerid,required"`
	ItemUUID    string    `json:"item_uuid" check:"lowerid,required"`
	User        User      `json:"user" check:"required"`
	Client      Client    `json:"client" check:"required"`
	Location    *Location `json:"location,omitempty"`
	Action      string    `json:"action,omitempty" check:"enum=ItemUsageActions"`
	AccountUUID string    `json:"account_uuid,omitempty" api:"v2" check:"upperid"`
}

// AuditEvent is one event of the auditevents stream (spec §6.4).
// ObjectUUID is a pointer because real data has it both absent and
// present-but-empty ("" on view/report).
type AuditEvent struct {
	UUID             string    `json:"uuid" check:"upperid"`
	Timestamp        time.Time `json:"timestamp"`
	ActorUUID        string    `json:"actor_uuid,omitempty" check:"upperid,required"`
	ActorDetails     *User     `json:"actor_details,omitempty"`
	Action           string    `json:"action" check:"hook=auditAction"`
	ObjectType       string    `json:"object_type" check:"-"`
	ObjectUUID       *string   `json:"object_uuid,omitempty" check:"anyid"`
	ObjectDetails    *User     `json:"object_details,omitempty"`
	AuxID            int64     `json:"aux_id,omitempty" check:"nonneg"`
	AuxUUID          string    `json:"aux_uuid,omitempty" check:"anyid"`
	AuxDetails       *User     `json:"aux_details,omitempty"`
	AuxInfo          string    `json:"aux_info,omitempty"`
	Session          *Session  `json:"session,omitempty"`
	Location         *Location `json:"location,omitempty"`
	ActorType        string    `json:"actor_type,omitempty" api:"v2" check:"enum=UserTypes"`
	ActorAccountUUID string    `json:"actor_account_uuid,omitempty" api:"v2" check:"upperid"`
	AccountUUID      string    `json:"account_uuid,omitempty" api:"v2" check:"upperid"`
}

// Str returns a pointer to s, for AuditEvent.ObjectUUID.
func Str(s string) *string { return &s }

// AuditEventV3 is one event of GET /api/v3/auditevents (docs/v3.md): who
// acted, on what (one or more targets), and in what context. Member names
// and nesting are inferred from 1Password's beta pages; it is served, not
// ingested, and built from a stored AuditEvent by AuditEvent.V3.
// InsertTime is when Logbook stored the event (its insertion time, which
// start_time and end_time bound; docs/v3.md).
type AuditEventV3 struct {
	UUID       string     `json:"uuid"`
	Timestamp  time.Time  `json:"timestamp"`
	InsertTime time.Time  `json:"insert_time"`
	Action     string     `json:"action"`
	Actor      ActorV3    `json:"actor"`
	Targets    []TargetV3 `json:"targets"`
	Context    ContextV3  `json:"context"`
}

// ActorV3 is who performed a v3 audit event.
type ActorV3 struct {
	UUID        string `json:"uuid,omitempty"`
	Type        string `json:"type,omitempty"`
	Name        string `json:"name,omitempty"`
	Email       string `json:"email,omitempty"`
	AccountUUID string `json:"account_uuid,omitempty"`
}

// TargetV3 is one entity a v3 audit event affected. Type is the v3 target
// name (the first part of the action) for the object, "user" or "related"
// for the v2 event's auxiliary entity; ID and Info carry v2's aux_id and
// aux_info.
type TargetV3 struct {
	Type  string `json:"type"`
	UUID  string `json:"uuid,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	ID    int64  `json:"id,omitempty"`
	Info  string `json:"info,omitempty"`
}

// ContextV3 is where and how a v3 audit event happened.
type ContextV3 struct {
	Account  *AccountV3 `json:"account,omitempty"`
	Session  *SessionV3 `json:"session,omitempty"`
	Device   *DeviceV3  `json:"device,omitempty"`
	Location *Location  `json:"location,omitempty"`
}

// AccountV3 is the account a v3 audit event happened in.
type AccountV3 struct {
	UUID string `json:"uuid"`
}

// SessionV3 is the session a v3 audit event happened in.
type SessionV3 struct {
	UUID      string    `json:"uuid"`
	LoginTime time.Time `json:"login_time"`
	IP        string    `json:"ip,omitempty"`
}

// DeviceV3 is the device of a v3 audit event's session.
type DeviceV3 struct {
	UUID string `json:"uuid"`
}
