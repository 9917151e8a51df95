// Package syslog is the forwarder's "syslog" sink: it sends every event as
// one RFC 5424 message over UDP (RFC 5426), TCP with octet counting
// (RFC 6587) or TLS (RFC 5425, also octet counting).
//
// A message is
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG
//
// with PRI from the configured facility and severity (local0.info by
// default), TIMESTAMP the event's own timestamp in UTC with microseconds,
// MSGID per feature ("auditevents", "itemusages", "signinattempts" by
// default), structured data "-" unless structured_data_id is set (then
// [ID uuid="…" source="…"]), and MSG the event exactly as the Events API
// sent it (made one line if it was indented).
//
// # What "confirmed" means
//
// Syslog has no application-level acknowledgement, so this sink can
// promise less than the others. Over TCP and TLS an event is "confirmed"
// once its frame was written to the socket without error: the kernel (and
// for TLS the TLS layer) accepted it, but the receiver may still lose it if
// the connection breaks before the bytes arrive, or if the receiver itself
// drops it. Over UDP "confirmed" means only that the datagram left this
// host; nothing tells whether it arrived. Use TCP or TLS for anything that
// matters, and a sink with real acknowledgements (splunk_hec with ack,
// elasticsearch, nats) where losing an event is not acceptable.
//
// To narrow the TCP window, before writing a batch on a connection kept
// from an earlier batch the sink checks that the receiver has not closed
// it (a receiver never sends, so anything readable means the connection is
// gone) and reconnects if it has. After any write error the connection is
// closed and Write returns the error; the next Write dials again. The
// forwarder retries the whole batch, so a receiver may see some events
// twice: syslog has no de-duplication (receivers can use the uuid in the
// message).
//
// # Errors
//
// Over UDP a message larger than a datagram can carry (65,507 bytes) is
// rejected for good. Every other failure (dial, TLS handshake, write) is a
// temporary error.
package syslog
