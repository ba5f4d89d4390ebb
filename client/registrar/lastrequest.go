package registrar

import (
	"encoding/json"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/keystore"
)

// LastRequest is what the registrar remembers, with each credential
// (keystore.Credential.LastRequest), of the last register or update request it sent for it:
// the metadata, and the members of it that the server did not take as sent. A caller that
// compares the metadata it wants with what the server keeps needs it to tell a member the
// server rewrites on every request (RFC 7591 §3.2.1 lets it: "substitute them with suitable
// values") from one that was changed since: the first is no reason to send the request again.
type LastRequest struct {
	// Metadata is the request's client metadata (software_id included for a template
	// instance), every secret member's value replaced by client.Redacted.
	Metadata json.RawMessage `json:"metadata"`
	// Changes are the members the server ignored or replaced (Compare of the request and
	// the response); nil when it took the request as sent.
	Changes []Change `json:"changes,omitempty"`
}

// lastRequestOf encodes what a register or update request sent and got back; nil (no
// record) in the impossible case that it cannot be encoded, so that what the server issued
// is stored all the same.
func lastRequestOf(sent client.Metadata, changes []Change) json.RawMessage {
	md, err := json.Marshal(sent)
	if err != nil {
		return nil
	}
	b, err := json.Marshal(LastRequest{Metadata: client.RedactJSON(md), Changes: changes})
	if err != nil {
		return nil
	}
	return b
}

// LastRequestOf returns the record of the last register or update request sent for c, and
// false when there is none (a credential stored before the registrar kept one, or imported).
func LastRequestOf(c keystore.Credential) (LastRequest, bool) {
	var lr LastRequest
	if len(c.LastRequest) == 0 || json.Unmarshal(c.LastRequest, &lr) != nil || len(lr.Metadata) == 0 {
		return LastRequest{}, false
	}
	return lr, true
}
