// Package splunk is the forwarder's "splunk_hec" sink: it sends events to a
// Splunk HTTP Event Collector (HEC).
//
// Every event becomes one HEC event object in a POST to
// /services/collector/event, authorised with "Authorization: Splunk
// <token>":
//
//	{"time":1753728556.504514,"host":"…","source":"logbook:demo",
//	 "sourcetype":"1password:events:auditevents","index":"…","event":{…}}
//
// "event" holds the event exactly as the Events API sent it; "time" is its
// timestamp in epoch seconds with microseconds. A batch is sent in as few
// requests as max_request_bytes allows (the objects are concatenated, as
// HEC expects), optionally gzip-compressed.
//
// # What "confirmed" means
//
// Without indexer acknowledgement (ack: false, the default), an event is
// confirmed when HEC answered its request with 200 and code 0 ("Success").
// HEC then holds the event in memory on its way to the indexers: Splunk
// itself may still lose it if the indexer crashes before writing it.
//
// With ack: true, every request carries the X-Splunk-Request-Channel header
// (a GUID, random per process unless configured), the reply's ackId is
// kept, and Write polls /services/collector/ack until every ackId of the
// batch is reported true, meaning the events are written to the index (and
// replicated, per the indexer's settings). Until then Write does not
// return nil; after ack_timeout it returns a temporary error and the whole
// batch is sent again. The HEC token must have indexer acknowledgement
// enabled: a reply without an ackId is an error.
//
// # Errors
//
// A 400 reply that names one event (codes 6 "Invalid data format", 12
// "Event field is required", 13 "Event field cannot be blank" and 15
// "Error in handling indexed fields", with "invalid-event-number") rejects
// that event for good: it goes to the dead-letter directory, and the other
// events of its request are sent again, so an event that HEC had taken
// before the bad one may arrive twice. A 413 reply splits the request, and
// rejects an event that is too large on its own. Every other reply (401 and
// 403 for a bad token, 400 for a wrong index or channel, 503 "Server is
// busy", 5xx, network errors, a missing acknowledgement) is a temporary
// error naming the HEC code and text: the forwarder retries the batch with
// backoff. The sink itself never retries.
//
// HEC has no de-duplication: a batch sent again after an error or a crash
// is indexed again. Splunk searches can de-duplicate on the event's uuid
// (| dedup uuid).
package splunk
