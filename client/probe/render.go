package probe

import (
	"fmt"
	"io"
	"strings"
)

// advise returns the advice that follows from the report as a whole; the checks add their
// own as they are decided.
func advise(r *Report) []string {
	var a []string
	if c, _ := r.Check("registration_mode"); c.Value == "protected" {
		a = append(a, "registration needs an initial access token (RFC 7591 §3): get one with the scope dcr and send it as a Bearer token")
	}
	if c, _ := r.Check("native_loopback"); c.Result == Yes {
		a = append(a, "register native apps with application_type native and a loopback redirect URI such as http://127.0.0.1/callback")
	}
	return a
}

// WriteTable writes the report as aligned text: a line per check, the summary, the advice.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "target    %s\n", r.Target)
	if r.Issuer != "" {
		fmt.Fprintf(&b, "issuer    %s\n", r.Issuer)
	}
	if r.RegistrationEndpoint != "" {
		fmt.Fprintf(&b, "register  %s\n", r.RegistrationEndpoint)
	}
	b.WriteString("\n")
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.ID))
	}
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-*s  %-9s  %s\n", width, c.ID, c.Result, c.line())
	}
	fmt.Fprintf(&b, "\n%s\n", r.summaryLine())
	for _, u := range r.Undeleted {
		fmt.Fprintf(&b, "NOT DELETED  %s (%s): %s\n", u.ClientID, u.Name, u.Reason)
	}
	if len(r.Advice) > 0 {
		b.WriteString("\nadvice for a client author:\n")
		for _, a := range r.Advice {
			fmt.Fprintf(&b, "  - %s\n", a)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// line is the text after a check's result: value, RFC section, detail or why skipped.
func (c Check) line() string {
	var parts []string
	if c.Value != "" {
		parts = append(parts, "["+c.Value+"]")
	}
	if c.RFC != "" {
		parts = append(parts, "breaks "+c.RFC+":")
	}
	if c.Result == Skipped {
		parts = append(parts, c.Skipped)
	} else if c.Detail != "" {
		parts = append(parts, c.Detail)
	}
	return strings.Join(parts, " ")
}

func (r *Report) summaryLine() string {
	s := r.Summary
	return fmt.Sprintf("%d yes, %d no, %d violation, %d skipped; %d requests, %d clients registered, %d not deleted",
		s.Yes, s.No, s.Violation, s.Skipped, r.Requests, len(r.Registered), len(r.Undeleted))
}

// WriteMarkdown writes the report as GitHub-flavoured Markdown, to paste into an issue.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### DCR compatibility report: %s\n\n", mdText(r.Target))
	if r.Issuer != "" {
		fmt.Fprintf(&b, "- issuer: `%s`\n", r.Issuer)
	}
	if r.RegistrationEndpoint != "" {
		fmt.Fprintf(&b, "- registration endpoint: `%s`\n", r.RegistrationEndpoint)
	}
	fmt.Fprintf(&b, "- %s\n\n", r.summaryLine())
	b.WriteString("| check | result | value | detail |\n|---|---|---|---|\n")
	for _, c := range r.Checks {
		res := string(c.Result)
		if c.Result == Violation {
			res = "**violation** (" + c.RFC + ")"
		}
		detail := c.Detail
		if c.Result == Skipped {
			detail = c.Skipped
		}
		val := ""
		if c.Value != "" {
			val = "`" + strings.ReplaceAll(c.Value, "`", "'") + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", c.ID, res, mdCell(val), mdCell(mdText(detail)))
	}
	if len(r.Undeleted) > 0 {
		b.WriteString("\n**Not deleted** (delete by hand):\n\n")
		for _, u := range r.Undeleted {
			fmt.Fprintf(&b, "- `%s` (%s): %s\n", u.ClientID, mdText(u.Name), mdText(u.Reason))
		}
	}
	if len(r.Advice) > 0 {
		b.WriteString("\n**Advice for a client author**\n\n")
		for _, a := range r.Advice {
			fmt.Fprintf(&b, "- %s\n", mdText(a))
		}
	}
	b.WriteString("\n<sub>made by `dcrctl probe`</sub>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell makes text safe inside a table cell.
func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// mdText escapes the characters that would start Markdown or HTML markup in server text.
func mdText(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "*", `\*`, "`", "'", "[", `\[`, "]", `\]`).Replace(s)
}
