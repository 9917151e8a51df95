package elastic

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// bulkServer is an in-process cluster that follows the bulk API as
// Elasticsearch documents it: POST /_bulk with NDJSON action/source pairs,
// "create" that answers 201 or 409 version_conflict_engine_exception, a
// reply {"took","errors","items":[{"create":{…,"status",…}}]} in request
// order with errors:true when any item failed, per-item mapping errors
// (400 document_parsing_exception) and queue rejections (429
// es_rejected_execution_exception), whole-request errors in the
// {"error":{"type","reason"},"status"} shape, 401 for bad credentials and
// gzip bodies.
type bulkServer struct {
	*httptest.Server
	authz string          // required Authorization header; "" for none
	dates map[string]bool // fields mapped as "date"
	mu    sync.Mutex
	docs  map[string]map[string]json.RawMessage // index -> id -> source
	order []string                              // "index/id" in creation order
	// reject429 answers this many of the next create items with 429.
	reject429 int
	// down answers this many of the next requests with a whole 503.
	down     int
	requests int
	gzipped  int
	pipeline string
}

func newBulkServer(t testing.TB, authz string) *bulkServer {
	t.Helper()
	s := &bulkServer{authz: authz, docs: map[string]map[string]json.RawMessage{}, dates: map[string]bool{"timestamp": true}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_bulk", s.bulk)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func requestError(w http.ResponseWriter, status int, typ, reason string) {
	writeJSON(w, status, map[string]any{
		"error":  map[string]any{"root_cause": []any{map[string]any{"type": typ, "reason": reason}}, "type": typ, "reason": reason},
		"status": status,
	})
}

func (s *bulkServer) bulk(w http.ResponseWriter, r *http.Request) {
	if s.authz != "" && r.Header.Get("Authorization") != s.authz {
		w.Header().Set("WWW-Authenticate", `Basic realm="security", charset="UTF-8"`)
		requestError(w, http.StatusUnauthorized, "security_exception", "unable to authenticate user [x] for REST request [/_bulk]")
		return
	}
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/x-ndjson") && !strings.HasPrefix(ct, "application/json") {
		requestError(w, http.StatusNotAcceptable, "media_type_header_exception", "Invalid media-type value on headers [Content-Type]")
		return
	}
	s.mu.Lock()
	s.requests++
	s.pipeline = r.URL.Query().Get("pipeline")
	down := s.down > 0
	if down {
		s.down--
	}
	s.mu.Unlock()
	if down {
		requestError(w, http.StatusServiceUnavailable, "cluster_block_exception", "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];")
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			requestError(w, http.StatusBadRequest, "illegal_argument_exception", "bad gzip body")
			return
		}
		body = zr
		s.mu.Lock()
		s.gzipped++
		s.mu.Unlock()
	}
	start := time.Now()
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, 16<<20)
	var items []map[string]any
	errorsSeen := false
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(line, &action); err != nil || len(action) != 1 {
			requestError(w, http.StatusBadRequest, "illegal_argument_exception", "Malformed action/metadata line [1], expected START_OBJECT or END_OBJECT but found [VALUE_STRING]")
			return
		}
		meta, ok := action["create"]
		if !ok {
			requestError(w, http.StatusBadRequest, "illegal_argument_exception", "this test cluster accepts only create")
			return
		}
		if !sc.Scan() {
			requestError(w, http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: no requests added;")
			return
		}
		src := bytes.Clone(sc.Bytes())
		item := s.create(meta.Index, meta.ID, src)
		if st := item["status"].(int); st != http.StatusCreated {
			errorsSeen = true
		}
		items = append(items, map[string]any{"create": item})
	}
	writeJSON(w, http.StatusOK, map[string]any{"took": time.Since(start).Milliseconds(), "errors": errorsSeen, "items": items})
}

// create runs one create action and returns its item.
func (s *bulkServer) create(index, id string, src []byte) map[string]any {
	item := map[string]any{"_index": index, "_id": id}
	fail := func(status int, typ, reason string) map[string]any {
		item["status"] = status
		item["error"] = map[string]any{"type": typ, "reason": reason, "index": index}
		return item
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reject429 > 0 {
		s.reject429--
		return fail(http.StatusTooManyRequests, "es_rejected_execution_exception", "rejected execution of coordinating operation")
	}
	if index != strings.ToLower(index) || strings.HasPrefix(index, "_") {
		return fail(http.StatusBadRequest, "invalid_index_name_exception", fmt.Sprintf("Invalid index name [%s], must be lowercase", index))
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(src, &doc); err != nil {
		return fail(http.StatusBadRequest, "document_parsing_exception", "[1:1] failed to parse: "+err.Error())
	}
	for field := range s.dates {
		v, ok := doc[field]
		if !ok {
			continue
		}
		var str string
		if json.Unmarshal(v, &str) != nil {
			return fail(http.StatusBadRequest, "document_parsing_exception", fmt.Sprintf("[1:2] failed to parse field [%s] of type [date] in document with id '%s'", field, id))
		}
		if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
			return fail(http.StatusBadRequest, "document_parsing_exception", fmt.Sprintf("[1:2] failed to parse field [%s] of type [date] in document with id '%s'. Preview of field's value: '%s'", field, id, str))
		}
	}
	if s.docs[index] == nil {
		s.docs[index] = map[string]json.RawMessage{}
	}
	if id == "" {
		id = fmt.Sprintf("auto-%d", len(s.order))
		item["_id"] = id
	}
	if _, ok := s.docs[index][id]; ok {
		return fail(http.StatusConflict, "version_conflict_engine_exception", fmt.Sprintf("[%s]: version conflict, document already exists (current version [1])", id))
	}
	s.docs[index][id] = src
	s.order = append(s.order, index+"/"+id)
	item["status"] = http.StatusCreated
	item["result"] = "created"
	item["_version"] = 1
	item["_shards"] = map[string]int{"total": 2, "successful": 1, "failed": 0}
	return item
}

func (s *bulkServer) stored() (order []string, docs map[string]map[string]json.RawMessage, requests, gzipped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.order...), s.docs, s.requests, s.gzipped
}
