package cmd

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams carries every stream a command uses: data goes to Out, talk (progress,
// warnings, prompts) to ErrOut. Commands never touch os.Stdout or os.Stderr directly.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	InTTY  bool
	OutTTY bool
	ErrTTY bool

	// NoColor is set by --no-color or NO_COLOR.
	NoColor bool
	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
}

// System returns the process's own streams.
func System() *IOStreams {
	return &IOStreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		InTTY:  isTerminal(os.Stdin),
		OutTTY: isTerminal(os.Stdout),
		ErrTTY: isTerminal(os.Stderr),
		Getenv: os.Getenv,
	}
}

// TestStreams returns streams backed by buffers, none of them a terminal, and an empty environment.
func TestStreams() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, Getenv: func(string) string { return "" }}, in, out, errOut
}

// Interactive reports whether the user can be asked things or shown a browser:
// stdin and stderr are terminals and the process is not running in CI.
func (s *IOStreams) Interactive() bool {
	return s.InTTY && s.ErrTTY && s.getenv("CI") != "true"
}

func (s *IOStreams) getenv(k string) string {
	if s.Getenv == nil {
		return os.Getenv(k)
	}
	return s.Getenv(k)
}

func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}
