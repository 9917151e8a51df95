// Package admin is the domain of Logbook's admin side: accounts and their
// users, Events Reporting integrations, the bearer tokens issued for them,
// admin API keys and the server's signing keys. The CLI, the admin HTTP API
// (internal/adminapi) and the web console all go through one *Service, so
// the three surfaces enforce the same rules and emit the same audit trail.
//
// Every operation on an account is performed by an Actor, a user of that
// account. Only owners and administrators manage integrations, tokens, users
// and signing keys; members get ErrForbidden. Objects of another account are
// reported as not found, never as forbidden, so their existence is not
// revealed.
//
// Every management action appends the audit event 1Password emits for it
// (spec §6.4, §7.2) to the account's auditevents stream:
//
//	integration create  create/sa       object_uuid = integration, aux_info "D"
//	token issue         create/satoken  object_uuid = integration, aux_info = token name
//	token with expiry   expire/sa       object_uuid = integration, aux_info = expiry (RFC 3339)
//	token rename        trename/satoken object_uuid = integration, aux_info = new name
//	token revoke        trevoke/satoken object_uuid = integration, aux_info = token name
//	integration delete  trevoke/satoken for each token it still had
//
// Each event carries actor_uuid/actor_details of the acting user,
// actor_type "user", account_uuid, and the Actor's session: for the CLI a
// fresh session per command on this machine (login_time = the command's
// start, ip 127.0.0.1, device_uuid derived from the host name), for the
// admin API a session per admin key (uuid and device derived from the key
// id, login_time = the key's creation, ip = the caller's address).
//
// Errors are *Error values of a small fixed set of kinds (ErrInvalid,
// ErrNotFound, ErrForbidden, ErrConflict, ErrUnauthenticated); test them
// with errors.Is. Invalid input names the field and the reason, as in
// "features: at least one feature is required". StatusOf and CodeOf map a
// kind to its HTTP status and admin API code: the one table the admin API,
// the console and the CLI answer errors by.
//
// Admin keys and ingest keys are made and checked by internal/apikey.
package admin
