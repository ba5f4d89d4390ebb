package cimd

import (
	"fmt"
	"strings"
)

// Problem is one rule of the draft that a Client Identifier URL, a response or a document
// breaks.
type Problem struct {
	// Member is the document member at fault ("client_id", "redirect_uris[1]"); "" for the
	// URL itself or the HTTP response.
	Member string `json:"member,omitempty"`
	// Message says what is wrong and what to do.
	Message string `json:"message"`
	// Section is the rule's source: "§4.1" (of the draft) or "RFC 8252 §7.3".
	Section string `json:"section,omitempty"`
	// Warning marks a SHOULD (NOT) or a recommendation; other problems break a MUST.
	Warning bool `json:"warning,omitempty"`
}

// String is the problem on one line: "[warning: ]member: message (section)".
func (p Problem) String() string {
	var b strings.Builder
	if p.Warning {
		b.WriteString("warning: ")
	}
	if p.Member != "" {
		b.WriteString(p.Member + ": ")
	}
	b.WriteString(p.Message)
	if p.Section != "" {
		sec := p.Section
		if strings.HasPrefix(sec, "§") {
			sec = "draft " + sec
		}
		fmt.Fprintf(&b, " (%s)", sec)
	}
	return b.String()
}

// Problems is what a check found, in the order of the rules.
type Problems []Problem

// Errors returns the problems that are not warnings.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Err returns an *InvalidError holding every problem when at least one is not a warning,
// else nil.
func (ps Problems) Err() error {
	if len(ps.Errors()) == 0 {
		return nil
	}
	return &InvalidError{Problems: ps}
}

// InvalidError is a URL or document that breaks a MUST of the draft.
type InvalidError struct {
	Problems Problems
}

// Error names the first problem that is not a warning, and how many more there are.
func (e *InvalidError) Error() string {
	errs := e.Problems.Errors()
	if len(errs) == 0 {
		return "cimd: no problem"
	}
	msg := "cimd: " + errs[0].String()
	if n := len(errs) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return msg
}

func problem(member, section, format string, args ...any) Problem {
	return Problem{Member: member, Section: section, Message: fmt.Sprintf(format, args...)}
}

func warning(member, section, format string, args ...any) Problem {
	p := problem(member, section, format, args...)
	p.Warning = true
	return p
}
