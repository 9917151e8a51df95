package ingest

import (
	"strings"
	"testing"
)

func TestReadBody(t *testing.T) {
	for _, tc := range []struct {
		body    string
		length  int64
		want    string
		wantErr bool
	}{
		{"hello", 5, "hello", false},
		{"hello", -1, "hello", false},
		{"hello", 0, "hello", false},
		{"hel", 5, "hel", true},
		{"", 5, "", true},
		{"hello world", 5, "hello world", false},
	} {
		got, err := readBody(strings.NewReader(tc.body), tc.length)
		if string(got) != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("readBody(%q, %d) = %q, %v; want %q, error %v", tc.body, tc.length, got, err, tc.want, tc.wantErr)
		}
	}
}
