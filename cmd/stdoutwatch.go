package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// errStdoutClosed is the cause of a context cancelled because nobody reads stdout any more.
var errStdoutClosed = errors.New("stdout was closed (the command reading it exited)")

// untilStdoutCloses returns ctx, cancelled with cause errStdoutClosed once stdout is a pipe
// whose reader has exited — dcrctl serve -o json | head -1 would otherwise run forever, and
// dcrctl quickstart | head -1 would die of SIGPIPE before removing its temporary files.
// Meanwhile a write to the closed pipe fails with EPIPE instead of killing the process, so
// deferred clean-up runs. who ("dcrctl serve") names the command in the line that says so
// on stderr. The returned stop ends the watch; call it when the command ends.
func untilStdoutCloses(ctx context.Context, ios *IOStreams, who string) (context.Context, func()) {
	f, ok := ios.Out.(*os.File)
	if !ok {
		return ctx, func() {}
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return ctx, func() {}
	}
	sigs := make(chan os.Signal, 1)
	// SIGPIPE also comes from sockets (a client that hung up): it only makes writes fail
	// with EPIPE; whether stdout's reader is gone is asked of the pipe itself.
	signal.Notify(sigs, syscall.SIGPIPE)
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if readerGone(f, 200*time.Millisecond) {
				fmt.Fprintf(ios.ErrOut, "%s: %v: stopping\n", who, errStdoutClosed)
				cancel(errStdoutClosed)
				return
			}
			select {
			case <-sigs:
			default:
			}
		}
	}()
	return ctx, func() {
		cancel(nil)
		<-done
		signal.Stop(sigs)
	}
}
