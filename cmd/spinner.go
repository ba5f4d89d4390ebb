package cmd

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// spinner shows progress on a terminal's stderr while the command waits for a person (a
// browser login, a device approval). It draws nothing when stderr is not a terminal or the
// session is not interactive.
type spinner struct {
	mu     sync.Mutex
	out    io.Writer
	msg    string
	on     bool
	stop   chan struct{}
	done   chan struct{}
	frames []string
}

// startSpinner starts a spinner with msg; stop it with Stop. Writes through Writer() clear
// the spinner's line first, so the URL a login prints stays readable.
func startSpinner(ios *IOStreams, msg string) *spinner {
	s := &spinner{out: ios.ErrOut, msg: msg, stop: make(chan struct{}), done: make(chan struct{}),
		frames: []string{"|", "/", "-", `\`}}
	if !ios.Interactive() {
		close(s.done)
		return s
	}
	if ios.ColorEnabled() {
		s.frames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}
	}
	s.on = true
	go func() {
		defer close(s.done)
		t := time.NewTicker(120 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			s.mu.Lock()
			fmt.Fprintf(s.out, "\r%s %s", s.frames[i%len(s.frames)], s.msg)
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Writer returns a writer for status messages that do not collide with the spinner.
func (s *spinner) Writer() io.Writer { return spinnerWriter{s} }

type spinnerWriter struct{ s *spinner }

func (w spinnerWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if w.s.on {
		fmt.Fprint(w.s.out, "\r\033[K")
	}
	return w.s.out.Write(p)
}

// Stop stops the spinner and clears its line.
func (s *spinner) Stop() {
	s.mu.Lock()
	on := s.on
	s.on = false
	s.mu.Unlock()
	if on {
		close(s.stop)
		<-s.done
		fmt.Fprint(s.out, "\r\033[K")
	}
}
