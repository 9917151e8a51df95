package splunk

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// hecServer is an in-process HTTP Event Collector that follows the HEC
// protocol as Splunk documents it: the /services/collector/event and
// /services/collector/ack endpoints, the "Splunk <token>" scheme, the JSON
// reply {"text","code"} with the documented HTTP statuses and codes, the
// channel requirement and ackIds when acknowledgement is on, gzip bodies,
// invalid-event-number for a bad event, and 413 past a size limit. A
// request with a bad event indexes none of its events.
type hecServer struct {
	*httptest.Server
	token    string
	ack      bool
	indexes  map[string]bool // allowed indexes; nil allows any
	maxBytes int             // 413 past this many body bytes; 0: no limit

	mu       sync.Mutex
	indexed  []hecEvent           // events written to the "index"
	pending  map[int64][]hecEvent // acked ids not yet indexed, per id
	acked    map[int64]bool
	nextAck  map[string]int64 // per channel
	busy     int              // answer this many event requests with 503
	ackAfter int              // acks turn true after this many polls
	polls    int
	pollc    chan struct{} // if set, gets a value after every ack poll
	requests int
	gzipped  int
}

// hecEvent is one event object as received.
type hecEvent struct {
	Time       json.Number     `json:"time"`
	Host       string          `json:"host"`
	Source     string          `json:"source"`
	SourceType string          `json:"sourcetype"`
	Index      string          `json:"index"`
	Event      json.RawMessage `json:"event"`
}

func newHECServer(t testing.TB, token string, ack bool) *hecServer {
	t.Helper()
	s := &hecServer{token: token, ack: ack, pending: map[int64][]hecEvent{}, acked: map[int64]bool{}, nextAck: map[string]int64{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /services/collector/event", s.event)
	mux.HandleFunc("POST /services/collector/ack", s.ackHandler)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func reply(w http.ResponseWriter, status int, body map[string]any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

var channelRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// auth checks the token and, with ack on, the channel. It writes the error
// reply and returns "" when the request must stop.
func (s *hecServer) auth(w http.ResponseWriter, r *http.Request) (channel string, ok bool) {
	h := r.Header.Get("Authorization")
	switch {
	case h == "":
		reply(w, http.StatusUnauthorized, map[string]any{"text": "Token is required", "code": 2})
		return "", false
	case !strings.HasPrefix(h, "Splunk "):
		reply(w, http.StatusUnauthorized, map[string]any{"text": "Invalid authorization", "code": 3})
		return "", false
	case strings.TrimPrefix(h, "Splunk ") != s.token:
		reply(w, http.StatusForbidden, map[string]any{"text": "Invalid token", "code": 4})
		return "", false
	}
	channel = r.Header.Get("X-Splunk-Request-Channel")
	if channel == "" {
		channel = r.URL.Query().Get("channel")
	}
	if s.ack {
		if channel == "" {
			reply(w, http.StatusBadRequest, map[string]any{"text": "Data channel is missing", "code": 10})
			return "", false
		}
		if !channelRE.MatchString(channel) {
			reply(w, http.StatusBadRequest, map[string]any{"text": "Invalid data channel", "code": 11})
			return "", false
		}
	}
	return channel, true
}

func (s *hecServer) event(w http.ResponseWriter, r *http.Request) {
	channel, ok := s.auth(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	s.requests++
	busy := s.busy > 0
	if busy {
		s.busy--
	}
	s.mu.Unlock()
	if busy {
		reply(w, http.StatusServiceUnavailable, map[string]any{"text": "Server is busy", "code": 9})
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			reply(w, http.StatusBadRequest, map[string]any{"text": "Invalid data format", "code": 6, "invalid-event-number": 0})
			return
		}
		body = zr
		s.mu.Lock()
		s.gzipped++
		s.mu.Unlock()
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"text": "Invalid data format", "code": 6, "invalid-event-number": 0})
		return
	}
	if s.maxBytes > 0 && len(raw) > s.maxBytes {
		reply(w, http.StatusRequestEntityTooLarge, map[string]any{"text": "Content-Length of " + strconv.Itoa(len(raw)) + " too large (maximum is " + strconv.Itoa(s.maxBytes) + ")", "code": 27})
		return
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		reply(w, http.StatusBadRequest, map[string]any{"text": "No data", "code": 5})
		return
	}
	var got []hecEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	for i := 0; ; i++ {
		var obj map[string]json.RawMessage
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			reply(w, http.StatusBadRequest, map[string]any{"text": "Invalid data format", "code": 6, "invalid-event-number": i})
			return
		}
		ev, ok := obj["event"]
		if !ok {
			reply(w, http.StatusBadRequest, map[string]any{"text": "Event field is required", "code": 12, "invalid-event-number": i})
			return
		}
		if s := string(bytes.TrimSpace(ev)); s == `""` || s == "null" {
			reply(w, http.StatusBadRequest, map[string]any{"text": "Event field cannot be blank", "code": 13, "invalid-event-number": i})
			return
		}
		var e hecEvent
		all, _ := json.Marshal(obj)
		d := json.NewDecoder(bytes.NewReader(all))
		d.UseNumber()
		if err := d.Decode(&e); err != nil {
			reply(w, http.StatusBadRequest, map[string]any{"text": "Invalid data format", "code": 6, "invalid-event-number": i})
			return
		}
		e.Event = ev
		if s.indexes != nil && e.Index != "" && !s.indexes[e.Index] {
			reply(w, http.StatusBadRequest, map[string]any{"text": "Incorrect index", "code": 7, "invalid-event-number": i})
			return
		}
		got = append(got, e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ack {
		s.indexed = append(s.indexed, got...)
		reply(w, http.StatusOK, map[string]any{"text": "Success", "code": 0})
		return
	}
	id := s.nextAck[channel]
	s.nextAck[channel]++
	s.pending[id] = got
	reply(w, http.StatusOK, map[string]any{"text": "Success", "code": 0, "ackId": id})
}

func (s *hecServer) ackHandler(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.auth(w, r); !ok {
		return
	}
	if !s.ack {
		reply(w, http.StatusBadRequest, map[string]any{"text": "ACK is disabled", "code": 14})
		return
	}
	var req struct {
		Acks []int64 `json:"acks"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"text": "Invalid data format", "code": 6})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polls++
	if s.polls > s.ackAfter {
		// The indexers caught up: everything pending is now indexed,
		// in the order the requests came.
		for _, id := range slices.Sorted(maps.Keys(s.pending)) {
			s.indexed = append(s.indexed, s.pending[id]...)
			s.acked[id] = true
			delete(s.pending, id)
		}
	}
	out := map[string]bool{}
	for _, id := range req.Acks {
		out[strconv.FormatInt(id, 10)] = s.acked[id]
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"acks": out})
	if s.pollc != nil {
		select {
		case s.pollc <- struct{}{}:
		default:
		}
	}
}

func (s *hecServer) snapshot() (indexed []hecEvent, requests, polls, gzipped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hecEvent(nil), s.indexed...), s.requests, s.polls, s.gzipped
}
