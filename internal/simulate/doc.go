// Package simulate generates a realistic, deterministic organisation and
// its activity as 1Password Events API events: sign-in attempts, item
// usages and audit events.
//
// A Sim is built from a Config (seed, start time, account, size) and
// advanced with Run, which emits every event that has reached the server
// by a given time, in arrival order. Arrival is the event's timestamp plus
// a lateness: sign-ins and audit events arrive within seconds, item usages
// minutes to hours later, as 1Password reports them when a client syncs.
//
// The same Seed, Start and Config give byte-identical events whatever the
// sequence of Run calls: nothing depends on the wall clock or on map
// iteration order. Cross-references hold as in real data: every audit
// event's session is one a successful sign-in opened (same session UUID,
// login_time equal to the sign-in's timestamp), item usages name vaults and
// items that exist and that the user may use, and names are hydrated as
// they were when each event happened.
//
// The package imports only events and the standard library; the cli
// package decides where the events go.
package simulate
