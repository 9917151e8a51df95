package atomicfile

import (
	"errors"
	"strings"
	"testing"
)

func TestCompleteLines(t *testing.T) {
	long := strings.Repeat("x", 200<<10) // spans several reads
	tests := []struct {
		name, data string
		want       int64
	}{
		{"empty", "", 0},
		{"whole lines", "a\nbb\n", 5},
		{"torn last line", "a\nbb\ncc", 5},
		{"no newline", "abc", 0},
		{"long torn line", "a\n" + long, 2},
		{"long whole line", long + "\n", int64(len(long)) + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CompleteLines(strings.NewReader(tt.data), int64(len(tt.data)))
			if err != nil || got != tt.want {
				t.Errorf("CompleteLines = %d, %v; want %d, nil", got, err, tt.want)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, errors.New("disk on fire") }

func TestCompleteLinesReadError(t *testing.T) {
	if _, err := CompleteLines(failingReader{}, 10); err == nil || err.Error() != "disk on fire" {
		t.Errorf("CompleteLines = %v, want the read error", err)
	}
}
