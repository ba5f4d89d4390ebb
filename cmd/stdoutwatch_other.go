//go:build !unix

package cmd

import (
	"os"
	"time"
)

// readerGone cannot ask a pipe whether its reader is gone here: it waits d and says no.
func readerGone(_ *os.File, d time.Duration) bool {
	time.Sleep(d)
	return false
}
