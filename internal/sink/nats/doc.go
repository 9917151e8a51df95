// Package nats is the forwarder's "nats" sink: it publishes events to a
// NATS JetStream stream.
//
// Every event is one message whose data is the event exactly as the Events
// API sent it, on a subject rendered from a template
// ("logbook.events.{feature}" by default; "{source}" is the forwarder
// source's name), with the header Nats-Msg-Id set to the event's uuid.
// JetStream drops a message whose id it has already stored within the
// stream's duplicate window (two minutes by default, see duplicate_window),
// so a batch repeated after an error or a crash is stored once as long as
// the repeat comes within that window. With create_stream the sink creates
// the stream when it does not exist (it never changes an existing one).
//
// # What "confirmed" means
//
// An event is confirmed when JetStream returned its PubAck: the stream
// stored the message (on disk for file storage, with the stream's replicas
// agreeing when it has more than one), or recognised it as a duplicate of
// one it stored. Write publishes the whole batch asynchronously and waits
// for every PubAck; plain NATS publishing without JetStream has no
// acknowledgement and is not supported.
//
// # Errors
//
// A message larger than the server's max_payload, or than the stream's
// max_msg_size (JetStream error 10054), is rejected for good and goes to
// the dead-letter directory. Everything else (no stream listening on the
// subject, a full stream with discard new, a lost connection, a PubAck
// that does not come within the timeout) is a temporary error: the
// forwarder retries the whole batch with backoff, and JetStream drops the
// messages it already stored. The connection reconnects by itself.
package nats
