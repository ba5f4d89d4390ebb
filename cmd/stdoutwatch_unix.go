//go:build unix

package cmd

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// readerGone waits up to d for the pipe f writes to to lose its reader: poll(2) reports
// POLLERR on the write end of a pipe nobody reads (Linux; tested there), and some other
// systems report POLLHUP, which counts too.
func readerGone(f *os.File, d time.Duration) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	_ = rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd)}}
		n, err := unix.Poll(fds, int(d/time.Millisecond))
		gone = err == nil && n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0
	})
	return gone
}
