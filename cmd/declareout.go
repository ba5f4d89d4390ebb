package cmd

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/declare"
)

// stepSymbols mark each action in the table form, as diff tools do.
var stepSymbols = map[string]string{declare.ActionCreate: "+", declare.ActionUpdate: "~", declare.ActionDelete: "-",
	declare.ActionUnchanged: "=", declare.ActionUnknown: "!"}

// writeSteps prints the steps of a plan (or an apply): -o json and yaml give one object per
// entry (name, issuer, action, result, diff, …); the table gives one line per entry and
// one per member of a diff.
func writeSteps(w io.Writer, format string, p *declare.Plan, applied bool) error {
	steps := make([]declare.Step, len(p.Steps))
	for i, s := range p.Steps {
		if steps[i] = s; s.Err != nil { // with the advice any command gives for it (advice.go)
			steps[i].Error = client.RedactError(withAdvice(s.Err))
		}
	}
	return writeData(w, format, steps, func(w io.Writer) error {
		var b strings.Builder
		for _, s := range steps {
			writeStep(&b, s, applied)
		}
		_, err := io.WriteString(w, b.String())
		return err
	})
}

func writeStep(b *strings.Builder, s declare.Step, applied bool) {
	fmt.Fprintf(b, "%s %s: %s", stepSymbols[s.Action], s.Name, s.Action)
	if applied || s.Result == declare.ResultFailed {
		fmt.Fprintf(b, ": %s", s.Result)
	}
	if s.Action == declare.ActionCreate || s.Action == declare.ActionDelete {
		fmt.Fprintf(b, " (%s)", s.Issuer)
	}
	b.WriteString("\n")
	for _, d := range s.Diff {
		switch {
		case d.Secret:
			fmt.Fprintf(b, "    %s: (a secret: values not shown)\n", d.Member)
		default:
			fmt.Fprintf(b, "    %s: %s → %s\n", d.Member, orUnset(d.From), orUnset(d.To))
		}
	}
	for _, c := range s.NotKept {
		switch {
		case c.Secret:
			fmt.Fprintf(b, "    not kept by the server: %s (a secret)\n", c.Member)
		case c.Got == nil:
			fmt.Fprintf(b, "    not kept by the server: %s (sent %s, it keeps none)\n", c.Member, c.Sent)
		default:
			fmt.Fprintf(b, "    not kept by the server: %s (sent %s, it keeps %s)\n", c.Member, c.Sent, c.Got)
		}
	}
	if s.Blocked != "" && s.Result != declare.ResultFailed {
		fmt.Fprintf(b, "    cannot be done: %s\n", s.Blocked)
	}
	if s.Error != "" {
		fmt.Fprintf(b, "    error: %s\n", s.Error)
	}
}

func orUnset(v []byte) string {
	if v == nil {
		return "(unset)"
	}
	return string(v)
}

// summary counts the steps by action (a plan) or by result (an apply).
func summary(p *declare.Plan, applied bool) string {
	order := []string{declare.ActionCreate, declare.ActionUpdate, declare.ActionDelete, declare.ActionUnchanged}
	key := func(s declare.Step) string { return s.Action }
	if applied {
		order = []string{declare.ResultCreated, declare.ResultUpdated, declare.ResultDeleted, declare.ResultUnchanged, declare.ResultSkipped}
		key = func(s declare.Step) string { return s.Result }
	}
	n := map[string]int{}
	for _, s := range p.Steps {
		if s.Result == declare.ResultFailed {
			n[declare.ResultFailed]++
			continue
		}
		n[key(s)]++
	}
	var parts []string
	for _, k := range append(order, declare.ResultFailed) {
		label := k
		if !applied && k != declare.ActionUnchanged && k != declare.ResultFailed {
			label = "to " + k
		}
		if n[k] > 0 || k != declare.ResultFailed && k != declare.ResultSkipped {
			parts = append(parts, fmt.Sprintf("%d %s", n[k], label))
		}
	}
	return strings.Join(parts, ", ")
}

// changesError is dcrctl plan's answer when changes are needed: exit 2 (ExitChanges).
type changesError struct{ n int }

func (e *changesError) Error() string {
	return fmt.Sprintf("%d change(s) needed: dcrctl apply -f FILE makes them", e.n)
}

// failedStepsError reports the steps that failed; it unwraps to the first one's error, so
// that the exit code is that error's.
type failedStepsError struct {
	names []string
	first error
}

func (e *failedStepsError) Error() string {
	return fmt.Sprintf("%d of the entries failed (%s): see the error under each; fix them and run it again (what succeeded stays done)", len(e.names), strings.Join(e.names, ", "))
}

func (e *failedStepsError) Unwrap() error { return e.first }

// failures returns a *failedStepsError for the failed steps of p, or nil.
func failures(p *declare.Plan) error {
	var fe failedStepsError
	for _, s := range p.Steps {
		if s.Result == declare.ResultFailed || s.Result == declare.ResultSkipped {
			fe.names = append(fe.names, s.Name)
			if fe.first == nil {
				fe.first = s.Err
				if fe.first == nil {
					fe.first = errors.New(s.Error)
				}
			}
		}
	}
	if fe.names == nil {
		return nil
	}
	return &fe
}
