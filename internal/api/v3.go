package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
)

// v3Request is a parsed GET /api/v3/auditevents query (docs/v3.md, "Query
// parameters"): a page token, or a reset; Limit applies to either (0:
// absent). Start and End are the exclusive bounds as sent.
type v3Request struct {
	Token      string
	Limit      int
	Start, End *time.Time
}

// v3Params are the query parameters, each with the older reference's name
// for it ("" when it has none).
var v3Params = []struct{ name, alias string }{
	{"max_page_size", "page_size"},
	{"start_time", ""},
	{"end_time", ""},
	{"page_token", "next_page_token"},
}

// parseV3Query reads a v3 query string. Unknown parameters are ignored and
// an empty value is absent; a parameter given twice, or with its alias,
// must carry one value. The error says which parameter is wrong and why;
// it is logged, never sent.
func parseV3Query(rawQuery string) (v3Request, error) {
	var r v3Request
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return r, fmt.Errorf("query: %v", err)
	}
	val := map[string]string{}
	sizeName := "max_page_size"
	for _, p := range v3Params {
		for _, name := range []string{p.name, p.alias} {
			for _, v := range q[name] {
				switch {
				case name == "" || v == "":
				case val[p.name] == "":
					val[p.name] = v
					if p.name == "max_page_size" {
						sizeName = name
					}
				case val[p.name] != v:
					return r, fmt.Errorf("%s: given twice (%q, %q)", p.name, val[p.name], v)
				}
			}
		}
	}
	if s := val["max_page_size"]; s != "" {
		lo := 0
		if sizeName == "page_size" {
			lo = 1 // the older reference: 1–1000
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > maxLimit {
			return r, fmt.Errorf("%s: %q is not an integer from %d to %d", sizeName, s, lo, maxLimit)
		}
		r.Limit = n
	}
	if r.Start, err = parseQueryTime("start_time", val["start_time"]); err != nil {
		return r, err
	}
	if r.End, err = parseQueryTime("end_time", val["end_time"]); err != nil {
		return r, err
	}
	r.Token = val["page_token"]
	if r.Token != "" && (r.Start != nil || r.End != nil) {
		return r, fmt.Errorf("page_token: start_time and end_time are invalid with it")
	}
	if r.Start != nil && r.End != nil && r.End.Before(*r.Start) {
		return r, fmt.Errorf("end_time: %s is before start_time %s", r.End.Format(time.RFC3339Nano), r.Start.Format(time.RFC3339Nano))
	}
	return r, nil
}

// parseQueryTime reads an RFC 3339 time from a query value. An unescaped
// "+" of an offset arrives as a space (form encoding), so a space is read
// as "+" when the value does not parse otherwise.
func parseQueryTime(field, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil && strings.Contains(s, " ") {
		t, err = time.Parse(time.RFC3339Nano, strings.ReplaceAll(s, " ", "+"))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not an RFC 3339 time", field, s)
	}
	return inUTCYears(field, s, t)
}

// resetV3 is the state a v3 request without a page token starts from
// (resetState): its Start and End are the exclusive bounds on insertion time,
// and its position skips only the events older than the serving window,
// which read leaves out too; a late event stored after start_time may
// have any timestamp.
func (h *handler) resetV3(r *http.Request, account string, req v3Request) (cursorState, error) {
	st, floor, err := h.resetState(r, account, events.AuditEvents, pageRequest{Limit: req.Limit, Start: req.Start, End: req.End})
	if err != nil {
		return st, err
	}
	return h.startAt(r, st, floor)
}

// auditEventsV3 serves GET /api/v3/auditevents: the audit stream read in
// position order as for v2, bounded by insertion time, each event rendered
// in the v3 shape with its insertion time, with a sealed page token when
// more events exist.
func (h *handler) auditEventsV3(w http.ResponseWriter, r *http.Request) error {
	v, err := h.authenticate(r, events.AuditEvents)
	if err != nil {
		return err
	}
	call := Call{Token: v, Feature: events.AuditEvents, Version: 3}
	if h.Guard != nil && h.Guard(w, r, call) {
		return nil
	}
	req, err := parseV3Query(r.URL.RawQuery)
	if err != nil {
		return badRequest(err)
	}
	account := v.Token.AccountUUID
	var st cursorState
	if req.Token != "" {
		if st, err = h.codec.open(pageTokenVersion, req.Token); err != nil {
			return badRequest(fmt.Errorf("page_token: %w", err))
		}
		if st.Account != account || st.Feature != events.AuditEvents {
			return badRequest(fmt.Errorf("page_token: issued for account %s, token is for %s", st.Account, account))
		}
		if req.Limit > 0 {
			st.Limit = req.Limit
		}
	} else if st, err = h.resetV3(r, account, req); err != nil {
		return err
	}
	res, next, err := h.read(r, call, st)
	if err != nil {
		return err
	}
	buf := getBuf()
	defer putBuf(buf)
	buf.WriteString(`{"audit_events":[`)
	for i, row := range res.Rows {
		var e events.AuditEvent
		if err := json.Unmarshal(row.Data, &e); err != nil {
			return fmt.Errorf("stored audit event at %d: %w", row.Seq, err)
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		v3 := e.V3(row.Inserted)
		b, err := v3.AppendJSON(buf.AvailableBuffer())
		if err != nil {
			return fmt.Errorf("audit event %s in v3: %w", e.UUID, err)
		}
		buf.Write(b)
	}
	buf.WriteByte(']')
	if res.More {
		buf.WriteString(`,"next_page_token":"`)
		buf.WriteString(h.codec.seal(pageTokenVersion, next))
		buf.WriteByte('"')
	}
	buf.WriteByte('}')
	sendPage(w, buf.Bytes())
	return nil
}
