package cmd

import "fmt"

// This file is the one home of colour: status words (ok, FAIL, warning, the error prefix) and
// table headers are coloured on a terminal, never for NO_COLOR, --no-color, TERM=dumb or a
// stream that is not a terminal (a pipe, a file, CI logs).

// SGR codes.
const (
	sgrBold   = "1"
	sgrRed    = "31"
	sgrGreen  = "32"
	sgrYellow = "33"
)

func (s *IOStreams) colourWanted() bool {
	return !s.NoColor && s.getenv("NO_COLOR") == "" && s.getenv("TERM") != "dumb"
}

// ColorEnabled reports whether stderr may carry ANSI colour.
func (s *IOStreams) ColorEnabled() bool { return s.ErrTTY && s.colourWanted() }

// outColour reports whether stdout may carry ANSI colour.
func (s *IOStreams) outColour() bool { return s.OutTTY && s.colourWanted() }

// paint wraps text in an SGR code when on.
func paint(on bool, code, text string) string {
	if !on {
		return text
	}
	return "\033[" + code + "m" + text + "\033[0m"
}

// warnf prints one warning line on stderr.
func (s *IOStreams) warnf(format string, args ...any) {
	fmt.Fprintf(s.ErrOut, "%s %s\n", paint(s.ColorEnabled(), sgrYellow, "warning:"), fmt.Sprintf(format, args...))
}

// errorPrefix starts the line that reports a failed command.
func (s *IOStreams) errorPrefix() string { return paint(s.ColorEnabled(), sgrRed, "dcrctl:") }
