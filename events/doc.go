// Package events is Logbook's vocabulary for the 1Password Events API: the
// three event kinds (sign-in attempts, item usages, audit events), the
// request bodies that page through them, the response envelope and the
// introspection replies.
//
// The types marshal to exactly the bytes the real API sends: field order
// follows the struct order (taken from captured traffic, see the spec §6.1),
// optional fields are omitted when empty, and a sign-in attempt keeps
// "details": null. Each event has a v1 and a v2 rendering (spec §6.6); V1
// returns the copy that the /api/v1 endpoints serve.
//
// The package depends on the standard library only, so that the server, the
// public client, the simulator and the forwarder can all share it.
package events
