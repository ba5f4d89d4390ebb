package probe

import (
	"encoding/json"
	"fmt"
)

// Result is the outcome of one check. Its JSON form is one of the four strings below; the
// set is part of the stable -o json schema.
type Result string

// Results.
const (
	// Yes: the server does what the check asks about.
	Yes Result = "yes"
	// No: it does not; that is allowed by the RFCs, but a client must know.
	No Result = "no"
	// Violation: the server breaks a MUST of the RFC section in Check.RFC.
	Violation Result = "violation"
	// Skipped: the check could not run; Check.Skipped says why.
	Skipped Result = "skipped"
)

// Check is the outcome of one check of the report.
type Check struct {
	// ID is the check's stable identifier (see IDs).
	ID string `json:"id"`
	// Title is the question the check answers, in words.
	Title string `json:"title"`
	// Result answers it.
	Result Result `json:"result"`
	// Value is a short machine-readable observation, when the check has one: a registration
	// mode (open, protected, disabled), a member policy (kept, stripped, rejected), a status
	// code, a path, or a comma-separated list of names. "" when there is none.
	Value string `json:"value,omitempty"`
	// RFC names the section a violation breaks, e.g. "RFC 7592 §2.2"; "" otherwise.
	RFC string `json:"rfc,omitempty"`
	// Detail is one line saying what was seen.
	Detail string `json:"detail,omitempty"`
	// Skipped says why a skipped check did not run.
	Skipped string `json:"skipped,omitempty"`
}

// Summary counts the results.
type Summary struct {
	Yes       int `json:"yes"`
	No        int `json:"no"`
	Violation int `json:"violation"`
	Skipped   int `json:"skipped"`
}

// Report is the compatibility report of one server.
type Report struct {
	// Schema is the version of this JSON form: 1. Members are only ever added within it.
	Schema int `json:"schema"`
	// Target is the URL probed (or the registration endpoint, for a bare endpoint).
	Target string `json:"target"`
	// Issuer is the authorization server's issuer as its metadata states it; "" if none.
	Issuer string `json:"issuer,omitempty"`
	// RegistrationEndpoint is the registration endpoint used; "" if none was found.
	RegistrationEndpoint string `json:"registration_endpoint,omitempty"`
	// Checks are every check of IDs, in that order.
	Checks []Check `json:"checks"`
	// Summary counts Checks by result.
	Summary Summary `json:"summary"`
	// Advice are lines for a client author, derived from the results.
	Advice []string `json:"advice"`
	// Requests is how many HTTP requests the probe sent.
	Requests int `json:"requests"`
	// Registered are the client_ids the probe registered (every one named dcrctl-probe-…).
	Registered []string `json:"registered"`
	// Undeleted are those it could not delete, with why: delete them by hand.
	Undeleted []Undeleted `json:"undeleted"`
}

// Undeleted is a client the probe registered and could not delete.
type Undeleted struct {
	ClientID string `json:"client_id"`
	Name     string `json:"client_name"`
	Reason   string `json:"reason"`
}

// Violations returns how many checks are violations.
func (r *Report) Violations() int { return r.Summary.Violation }

// Check returns the check with the given id, and whether the report has it.
func (r *Report) Check(id string) (Check, bool) {
	for _, c := range r.Checks {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// MarshalJSON writes the report with empty lists as [] rather than null.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	p := plain(r)
	if p.Checks == nil {
		p.Checks = []Check{}
	}
	if p.Advice == nil {
		p.Advice = []string{}
	}
	if p.Registered == nil {
		p.Registered = []string{}
	}
	if p.Undeleted == nil {
		p.Undeleted = []Undeleted{}
	}
	return json.Marshal(p)
}

// catalogue is every check, in report order, with the question it answers.
var catalogue = []struct{ id, title string }{
	{"discovery", "Does the server publish metadata whose issuer is the URL probed (RFC 8414 §3, OpenID Discovery §4)?"},
	{"metadata_members", "Does the metadata carry the members clients rely on (RFC 8414 §2, OpenID Discovery §3)?"},
	{"protected_resource", "Does the protected resource publish RFC 9728 metadata naming its authorization server?"},
	{"registration_endpoint", "Is the registration endpoint advertised in the metadata (RFC 8414 §2)?"},
	{"registration_mode", "Can clients register: open, protected by an initial access token, or disabled (RFC 7591 §3)?"},
	{"insufficient_scope", "Is a token without the dcr scope refused with 403 insufficient_scope (RFC 6750 §3.1)?"},
	{"initial_token_reuse", "Can one initial access token register more than one client?"},
	{"status_code", "Does a registration answer 201 Created (RFC 7591 §3.2.1)?"},
	{"response_shape", "Does the registration response hold the members the RFCs require (RFC 7591 §3.2.1, RFC 7592 §3)?"},
	{"null_members", "Does the registration response carry members whose value is null?"},
	{"response_extras", "Does the registration response add members the client did not send?"},
	{"unknown_metadata", "Are unknown client metadata members kept, stripped or rejected (RFC 7591 §2)?"},
	{"lang_tags", "Are language-tagged members (client_name#de) kept, stripped or rejected (RFC 7591 §2.2)?"},
	{"vendor_members", "Is a vendor member (x_dcrctl_probe) kept, stripped or rejected?"},
	{"defaults_applied", "Does a registration without grant_types, response_types and token_endpoint_auth_method get RFC 7591 §2's defaults?"},
	{"grant_response_consistency", "Are the registered grant_types and response_types consistent (RFC 7591 §2.1)?"},
	{"native_loopback", "Which loopback redirect URIs may a native client register (RFC 8252 §7.3, §8.3)?"},
	{"private_use_scheme", "May a native client register a private-use URI scheme redirect (RFC 8252 §7.1)?"},
	{"redirect_uri_validation", "Does /authorize refuse an unregistered redirect_uri without redirecting to it (RFC 6749 §4.1.2.1)?"},
	{"loopback_any_port", "Does /authorize accept a loopback redirect URI on any port (RFC 8252 §7.3)?"},
	{"pkce_s256", "Does /authorize accept PKCE with S256 (RFC 7636 §4.3)?"},
	{"pkce_plain", "Does /authorize accept PKCE with plain (RFC 7636 §4.2)?"},
	{"pkce_required", "Does /authorize refuse a public client's request without PKCE (RFC 9700 §2.1.1)?"},
	{"iss_parameter", "Do authorization responses carry the iss parameter (RFC 9207)?"},
	{"cors_registration", "Does the registration endpoint answer a browser's CORS preflight?"},
	{"cimd", "Does the server advertise Client ID Metadata Documents (client_id_metadata_document_supported)?"},
	{"rfc7592", "Does the server offer RFC 7592 read, update and delete?"},
	{"rat_rotation_on_read", "Does an RFC 7592 read return a new registration access token?"},
	{"rat_rotation_on_update", "Does an RFC 7592 update return a new registration access token?"},
	{"secret_rotation_on_read", "Does an RFC 7592 read return a new client secret?"},
	{"secret_rotation_on_update", "Does an RFC 7592 update return a new client secret?"},
	{"get_omits_secret", "Does an RFC 7592 read leave out the client secret?"},
	{"update_full_replacement", "Does an RFC 7592 update replace the metadata, removing members it leaves out (RFC 7592 §2.2)?"},
	{"delete_revokes_tokens", "Does an RFC 7592 delete invalidate the registration access token and the client_id (RFC 7592 §2.3)?"},
	{"software_statements", "Does registration validate software statements (RFC 7591 §2.3, §3.1.1)?"},
}

// IDs returns the id of every check, in report order. The ids are stable: a check may be
// added, never renamed or removed.
func IDs() []string {
	ids := make([]string, len(catalogue))
	for i, c := range catalogue {
		ids[i] = c.id
	}
	return ids
}

// newReport returns a report with every check present and not yet decided (Result "").
func newReport(target string) *Report {
	r := &Report{Schema: 1, Target: target}
	for _, c := range catalogue {
		r.Checks = append(r.Checks, Check{ID: c.id, Title: c.title})
	}
	return r
}

// check returns the check with the given id; an unknown id is a programming error.
func (r *Report) check(id string) *Check {
	for i := range r.Checks {
		if r.Checks[i].ID == id {
			return &r.Checks[i]
		}
	}
	panic(fmt.Sprintf("probe: no check %q", id))
}
