package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// events serves POST /api/v{version}/{feature}.
//
// A request with a cursor, the connector's usual one, takes the serving
// path: the token's signature, audience and expiry claim are checked
// first (Tokens.Present), then the body and the cursor, and then one store
// call reads the token's row, which Tokens.Accept checks, and only when it
// passes, the page (store.EventStore.ListEventsWithToken). The guard runs
// once the token is accepted, before anything is written. Any other
// request (a reset, a body or cursor in error, answered 401 before 400 as
// ever, or one whose guard must run first: see Config.GuardFirst) is
// authenticated first, guarded, and then served.
func (h *handler) events(f events.Feature, version int) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := h.present(r)
		if err != nil {
			return err
		}
		call := Call{Feature: f, Version: version}
		body, bodyErr := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if bodyErr == nil && len(body) > maxBody {
			bodyErr = fmt.Errorf("body: larger than %d bytes", maxBody)
		} else if bodyErr != nil {
			bodyErr = fmt.Errorf("read body: %w", bodyErr)
		}
		var req pageRequest
		if bodyErr == nil {
			req, bodyErr = parsePageRequest(body)
		}
		var st cursorState
		if bodyErr == nil && req.Cursor != "" {
			st, bodyErr = h.cursor(req.Cursor, p.Claims.AccountUUID, f)
		}
		guardFirst := h.Guard != nil && (h.GuardFirst == nil || h.GuardFirst(p.Claims.AccountUUID))
		if bodyErr != nil || req.Cursor == "" || guardFirst {
			if call.Token, err = h.accept(r, p, f); err != nil {
				return err
			}
			if h.Guard != nil && h.Guard(w, r, call) {
				return nil
			}
			if bodyErr != nil {
				return badRequest(bodyErr)
			}
			if req.Cursor == "" {
				st, err = h.reset(r, call.Token.Token.AccountUUID, f, req)
			} else if st.Account != call.Token.Token.AccountUUID {
				err = badRequest(fmt.Errorf("cursor: issued for account %s, token is for %s", st.Account, call.Token.Token.AccountUUID))
			}
			if err != nil {
				return err
			}
			res, next, err := h.read(r, call, st)
			if err != nil {
				return err
			}
			h.writePage(w, h.codec.encode(next), res)
			return nil
		}
		q, err := h.query(r, call, st)
		if err != nil {
			return err
		}
		// The rows are spliced as they are read into the page's buffer,
		// after room for the envelope's head, which needs the cursor after
		// them (see pageBuffer).
		pb := newPageBuffer()
		defer pb.free()
		v1Audit := version == 1 && f == events.AuditEvents
		var lastTime time.Time // of the last row read
		q.Each = func(row store.Row) {
			lastTime = row.Time
			if !v1Audit || auditOnV1(row.Data) {
				pb.add(row)
			}
		}
		var (
			acceptErr error
			checked   bool
		)
		res, err := h.Store.ListEventsWithToken(r.Context(), p.Claims.ID, q, func(t store.Token) error {
			checked = true
			call.Token, acceptErr = h.check(p, t, nil, f)
			if acceptErr == nil && t.AccountUUID != st.Account {
				acceptErr = badRequest(fmt.Errorf("cursor: issued for account %s, token is for %s", st.Account, t.AccountUUID))
			}
			return acceptErr
		})
		switch {
		case acceptErr != nil:
			return acceptErr
		case !checked && errors.Is(err, store.ErrNotFound):
			_, err = h.check(p, store.Token{}, err, f)
			return err
		case err != nil:
			return fmt.Errorf("list %s: %w", f, err)
		}
		h.markUsed(r, call.Token)
		if h.Guard != nil && h.Guard(w, r, call) {
			return nil
		}
		next := nextState(st, res.Last, res.More, lastTime)
		pb.served.HasMore = res.More
		if h.Observe != nil {
			h.Observe(call, pb.served)
		}
		// Always the canonical encoding, never the request's bytes: the
		// decoder skips CR and LF (the Splunk add-on sends its stored cursor
		// with a trailing newline), and echoing those would put a raw
		// control character inside a JSON string. Sealing is deterministic,
		// so a drained stream still answers with the cursor it was given:
		// when neither the position nor the hint has changed and the cursor
		// holds no CR or LF, it is that encoding already (the decoder
		// refuses any other).
		cursor := req.Cursor
		if next.After != st.After || !next.Hint.Equal(st.Hint) || strings.ContainsAny(cursor, "\r\n") {
			cursor = h.codec.encode(next)
		}
		sendPage(w, pb.finish(cursor, res.More))
		return nil
	}
}

// headRoom is the room a pageBuffer leaves for the envelope's head:
// {"cursor":"…","has_more":false,"items":[ with a sealed cursor of about
// 100 characters.
const headRoom = 512

// pageBuffer is a page being spliced into one pooled buffer: its items
// are appended as the store reads them, after headRoom bytes where finish
// writes the envelope's head, once the cursor is known, right before
// them; so the rows are copied once, from the driver into the response.
type pageBuffer struct {
	buf    *bytes.Buffer
	served Served
}

var headPad [headRoom]byte

func newPageBuffer() *pageBuffer {
	pb := &pageBuffer{buf: getBuf()}
	pb.buf.Write(headPad[:])
	return pb
}

// add appends row to the items.
func (pb *pageBuffer) add(row store.Row) {
	if pb.served.Items > 0 {
		pb.buf.WriteByte(',')
	} else {
		pb.served.First = row.Seq
	}
	pb.buf.Write(row.Data)
	pb.served.Items++
	pb.served.Last = row.Seq
}

// finish returns the whole page: the head with cursor and more, the
// items, and the envelope's end. The bytes are pb's: valid until free.
func (pb *pageBuffer) finish(cursor string, more bool) []byte {
	pb.buf.WriteString("]}")
	b := pb.buf.Bytes()
	const pre, mid, post = `{"cursor":"`, `","has_more":`, `,"items":[`
	flag := strconv.FormatBool(more)
	n := len(pre) + len(cursor) + len(mid) + len(flag) + len(post)
	if n > headRoom {
		return append([]byte(pre+cursor+mid+flag+post), b[headRoom:]...)
	}
	start := headRoom - n
	i := start
	for _, part := range [...]string{pre, cursor, mid, flag, post} {
		i += copy(b[i:], part)
	}
	return b[start:]
}

func (pb *pageBuffer) free() { putBuf(pb.buf) }

// read lists the page st asks for, in the rendering of call's version (v3
// reads the v2 bytes), tells Observe, and returns it with the state after
// it.
func (h *handler) read(r *http.Request, call Call, st cursorState) (store.ListResult, cursorState, error) {
	q, err := h.query(r, call, st)
	if err != nil {
		return store.ListResult{}, st, err
	}
	res, err := h.Store.ListEvents(r.Context(), q)
	if err != nil {
		return res, st, fmt.Errorf("list %s: %w", call.Feature, err)
	}
	res, next := h.page(call, st, res)
	h.observe(call, res)
	return res, next, nil
}

// query is the store query of the page st asks for. A v3 state's Start
// and End bound the insertion time (exclusive), and the events older than
// the account's serving window are left out as it slides.
func (h *handler) query(r *http.Request, call Call, st cursorState) (store.ListQuery, error) {
	q := store.ListQuery{
		Account: st.Account, Feature: call.Feature, After: st.After,
		Start: st.Start, End: st.End, Limit: st.Limit, V1: call.Version == 1, Hint: st.Hint,
	}
	if call.Version == 3 {
		floor, err := h.floor(r, st.Account, h.Now())
		if err != nil {
			return q, err
		}
		q.InsertedAfter, q.InsertedBefore, q.WithInserted = st.Start, st.End, true
		q.Start, q.End = floor, time.Time{}
	}
	return q, nil
}

// page is the page res as call's version renders it, and the state after
// it.
func (h *handler) page(call Call, st cursorState, res store.ListResult) (store.ListResult, cursorState) {
	if call.Version == 1 && call.Feature == events.AuditEvents {
		res.Rows = v1Rows(res.Rows)
	}
	var lastTime time.Time
	if len(res.Rows) > 0 {
		lastTime = res.Rows[len(res.Rows)-1].Time
	}
	return res, nextState(st, res.Last, res.More, lastTime)
}

// nextState is the state after a page of st that ended at last, with
// more after it or not, whose last row read has the time lastTime (zero:
// none read). Its hint is that time when there is more, so the store may
// read the next page sooner; a page that read rows and drained its stream
// leaves none, so a connector polling at the head sends no hint. A page
// that read no rows keeps st's hint: a poll at the end of the stream
// answers with the cursor it was given (design.md).
func nextState(st cursorState, last int64, more bool, lastTime time.Time) cursorState {
	next := st
	next.After = max(last, st.After)
	switch {
	case lastTime.IsZero():
	case more:
		next.Hint = lastTime
	default:
		next.Hint = time.Time{}
	}
	return next
}

// observe tells Observe about the page res. It runs before the page goes
// out, so that what the observer records (the scorecard's drained-at time,
// say) happens before the client can send its next request.
func (h *handler) observe(call Call, res store.ListResult) {
	if h.Observe == nil {
		return
	}
	s := Served{Items: len(res.Rows), HasMore: res.More}
	if len(res.Rows) > 0 {
		s.First, s.Last = res.Rows[0].Seq, res.Rows[len(res.Rows)-1].Seq
	}
	h.Observe(call, s)
}

// cursor opens a request's cursor, which must be account's and f's.
func (h *handler) cursor(raw, account string, f events.Feature) (cursorState, error) {
	st, err := h.codec.decode(raw)
	if err != nil {
		return st, err
	}
	if st.Account != account {
		return st, fmt.Errorf("cursor: issued for account %s, token is for %s", st.Account, account)
	}
	if st.Feature != f {
		return st, fmt.Errorf("cursor: issued for %s, used on %s", st.Feature, f)
	}
	return st, nil
}

// reset is the state a reset request (req without a cursor) starts from.
func (h *handler) reset(r *http.Request, account string, f events.Feature, req pageRequest) (cursorState, error) {
	st, _, err := h.resetState(r, account, f, req)
	if err != nil {
		return st, err
	}
	return h.startAt(r, st, st.Start)
}

// resetState is a reset's state before its position: the page size (the
// default for 0), the end, and the start (one hour before the end or now
// when absent), never before the account's serving window, which starts
// at floor (zero: it serves forever).
func (h *handler) resetState(r *http.Request, account string, f events.Feature, req pageRequest) (st cursorState, floor time.Time, err error) {
	now := h.Now().UTC()
	st = cursorState{Account: account, Feature: f, Limit: req.Limit}
	if st.Limit == 0 {
		st.Limit = defaultLimit
	}
	if req.End != nil {
		st.End = *req.End
	}
	switch {
	case req.Start != nil:
		st.Start = *req.Start
	case req.End != nil:
		st.Start = req.End.Add(-time.Hour)
	default:
		st.Start = now.Add(-time.Hour)
	}
	// Older than retention is clamped, not refused: connectors send
	// 2020-01-01 and expect everything there is (spec §3).
	if floor, err = h.floor(r, account, now); err != nil {
		return st, floor, err
	}
	if st.Start.Before(floor) {
		st.Start = floor
	}
	return st, floor, nil
}

// floor is where the account's serving window starts at now; zero when it
// serves forever.
func (h *handler) floor(r *http.Request, account string, now time.Time) (time.Time, error) {
	window, err := h.window(r.Context(), account)
	if err != nil || window == 0 {
		return time.Time{}, err
	}
	return now.Add(-window), nil
}

// startAt sets st's position before every event of its stream with a
// timestamp at or after t.
func (h *handler) startAt(r *http.Request, st cursorState, t time.Time) (cursorState, error) {
	pos, err := h.Store.StartPosition(r.Context(), st.Account, st.Feature, t)
	if err != nil {
		return st, fmt.Errorf("start position: %w", err)
	}
	st.After = pos
	return st, nil
}

// window is how far back the account's events are served; 0 is no bound.
func (h *handler) window(ctx context.Context, account string) (time.Duration, error) {
	if h.AccountWindow == nil {
		return h.Retention, nil
	}
	w, err := h.AccountWindow(ctx, account)
	switch {
	case err != nil:
		return 0, fmt.Errorf("serving window of account %s: %w", account, err)
	case w == store.ServeForever:
		return 0, nil
	case w > 0:
		return w, nil
	}
	return h.Retention, nil
}

// writePage splices stored event bytes into the envelope, keys in the order
// cursor, has_more, items.
func (h *handler) writePage(w http.ResponseWriter, cursor string, res store.ListResult) {
	buf := getBuf()
	defer putBuf(buf)
	buf.WriteString(`{"cursor":"`)
	buf.WriteString(cursor)
	buf.WriteString(`","has_more":`)
	buf.WriteString(strconv.FormatBool(res.More))
	buf.WriteString(`,"items":[`)
	for i, row := range res.Rows {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(row.Data)
	}
	buf.WriteString("]}")
	sendPage(w, buf.Bytes())
}

func getBuf() *bytes.Buffer {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	return buf
}

func putBuf(buf *bytes.Buffer) {
	if buf.Cap() <= 4<<20 {
		bufPool.Put(buf)
	}
}

// sendPage writes a 200 with the JSON body b.
func sendPage(w http.ResponseWriter, b []byte) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json; charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// introspect serves GET /api/auth/introspect (v1) and
// /api/v2/auth/introspect.
func (h *handler) introspect(version int) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := h.authenticate(r, "")
		if err != nil {
			return err
		}
		if h.Guard != nil && h.Guard(w, r, Call{Token: v, Version: version}) {
			return nil
		}
		var body any
		issued := v.Token.IssuedAt.UTC()
		if version == 1 {
			body = events.IntrospectionV1{UUID: v.Token.IntegrationUUID, IssuedAt: issued, Features: v.Token.Features}
		} else {
			body = events.Introspection{UUID: v.Token.IntegrationUUID, IssuedAt: issued, Features: v.Token.Features, AccountUUID: v.Token.AccountUUID}
		}
		return writeJSON(w, http.StatusOK, body)
	}
}
