package cmd

import (
	"bufio"
	"io"
	"log/slog"
	"sync"
	"time"
)

func serveLogger(w io.Writer, format string) *slog.Logger {
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil))
	case "none":
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// flushWriter buffers writes to w and flushes them every interval and on Flush and Close.
type flushWriter struct {
	mu   sync.Mutex
	bw   *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

func newFlushWriter(w io.Writer, every time.Duration) *flushWriter {
	f := &flushWriter{bw: bufio.NewWriterSize(w, 32<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-f.stop:
				return
			case <-t.C:
				f.Flush()
			}
		}
	}()
	return f
}

func (f *flushWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bw.Write(p)
}

// Flush writes out what is buffered.
func (f *flushWriter) Flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bw.Flush()
}

// Close stops the flusher and flushes.
func (f *flushWriter) Close() error {
	select {
	case <-f.stop:
	default:
		close(f.stop)
		<-f.done
	}
	f.Flush()
	return nil
}
