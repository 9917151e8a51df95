// Package elastic is the forwarder's "elasticsearch" sink: it indexes
// events in Elasticsearch or OpenSearch with the bulk API.
//
// A batch becomes one or more POST /_bulk requests of NDJSON pairs:
//
//	{"create":{"_index":"logbook-auditevents-2025.07.28","_id":"WMYL5LD5J7PK3JJAJJE7A4MS4F"}}
//	{…the event exactly as the Events API sent it…}
//
// The document id is the event's uuid and the operation is "create", so a
// document that already exists is never overwritten nor indexed twice:
// repeating a batch after an error or a crash is harmless. The index name
// comes from a template ("logbook-{feature}" by default, per-feature
// overrides) in which "{date}" is replaced by the event's own timestamp
// (never the clock), so a repeated event lands in the index that already
// holds it.
//
// # What "confirmed" means
//
// An event is confirmed when the bulk reply's item for it has status 201
// (created) or 409 (version conflict: a document with that id already
// exists, which for us means it was delivered before). By Elasticsearch's
// defaults (wait_for_active_shards=1, index.translog.durability=request) a
// 201 means the document was written to the primary shard's translog and
// fsynced.
//
// # Errors
//
// An item with another 4xx status (a mapping error, an invalid index name)
// is rejected for good with the item's error type and reason; it goes to
// the dead-letter directory. An item with 429 (the write queue is full) or
// 5xx, and a whole-request failure (401, 403, 413, 429, 5xx, network), is a
// temporary error: the forwarder retries the whole batch with backoff, and
// the items already created then answer 409. Rejections are reported only
// once no item is left to retry.
package elastic
