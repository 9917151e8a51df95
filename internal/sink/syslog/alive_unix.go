//go:build unix

package syslog

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
	"time"
)

// alive reports whether a connection kept from an earlier batch is still
// open. It peeks at the socket without blocking: a syslog receiver never
// sends application data, so end of file or an error means the receiver
// closed or reset the connection. (A Read with a past deadline cannot tell:
// Go returns the timeout without asking the kernel.) Over TLS, bytes
// waiting may be a post-handshake message such as a session ticket, so
// tls.Conn reads them briefly: it handles those itself and reports only an
// alert or end of file.
func alive(c net.Conn) bool {
	raw := c
	tc, isTLS := c.(*tls.Conn)
	if isTLS {
		raw = tc.NetConn()
	}
	sc, ok := raw.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var buf [1]byte
	var n int
	var perr error
	if err := rc.Read(func(fd uintptr) bool {
		n, _, perr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true
	}); err != nil {
		return false
	}
	switch {
	case errors.Is(perr, syscall.EAGAIN) || errors.Is(perr, syscall.EWOULDBLOCK):
		return true
	case perr != nil || n == 0:
		return false
	case !isTLS:
		return false
	}
	_ = tc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err = tc.Read(buf[:])
	_ = tc.SetReadDeadline(time.Time{})
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
