package atomicfile

import (
	"bytes"
	"io"
)

// CompleteLines returns the length of the longest prefix of the first size
// bytes of r that ends in a newline (0 when there is none): what stays of
// an append-only file of lines once a torn last line, left by a crash in
// the middle of an append, is cut off. It reads backwards from size, so
// the cost is the length of the last line, not of the file.
func CompleteLines(r io.ReaderAt, size int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for pos := size; pos > 0; {
		n := min(int64(len(buf)), pos)
		pos -= n
		if _, err := r.ReadAt(buf[:n], pos); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return pos + int64(i) + 1, nil
		}
	}
	return 0, nil
}
