package cmd

import (
	"fmt"
	"io"
)

// quickstartStep is one narrated step (-o json).
type quickstartStep struct {
	Step   string `json:"step"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// quickstartResult is what -o json prints.
type quickstartResult struct {
	OK     bool             `json:"ok"`
	Issuer string           `json:"issuer,omitempty"`
	Steps  []quickstartStep `json:"steps"`
}

// narrator prints the steps as they happen (table) or collects them (-o json, -o yaml).
type narrator struct {
	g      *GlobalOptions
	w      io.Writer
	table  bool
	result quickstartResult
}

func (n *narrator) step(name string, err error, format string, args ...any) error {
	s := quickstartStep{Step: name, OK: err == nil}
	if err == nil {
		s.Detail = fmt.Sprintf(format, args...)
	} else {
		s.Detail = err.Error()
	}
	n.result.Steps = append(n.result.Steps, s)
	if n.table {
		colour := n.g.IO.outColour()
		mark := paint(colour, sgrGreen, "ok") + "  "
		if err != nil {
			mark = paint(colour, sgrRed, "FAIL")
		}
		fmt.Fprintf(n.w, " %d %s  %s\n", len(n.result.Steps), mark, s.Detail)
	}
	return err
}

// newNarrator prints the heading of the table format.
func newNarrator(g *GlobalOptions) *narrator {
	n := &narrator{g: g, w: g.IO.Out, table: g.Output != "json" && g.Output != "yaml"}
	if n.table {
		fmt.Fprintln(n.w, "dcrctl quickstart: dynamic client registration end to end, against an embedded server")
		fmt.Fprintln(n.w)
	}
	return n
}

// finish prints the summary: the result object, or the closing line of the table.
func (n *narrator) finish(errp *error) {
	n.result.OK = *errp == nil
	switch {
	case !n.table:
		if werr := writeData(n.w, n.g.Output, n.result, nil); *errp == nil {
			*errp = werr
		}
	case *errp == nil:
		fmt.Fprintf(n.w, "\nEvery step worked. Next: run dcrctl serve in another terminal and try dcrctl register --help.\n")
	}
}
