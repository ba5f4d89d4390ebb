package registrar

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/dcrctl/dcrctl/client"
)

// Change is a member of a register or update request that the server did not take as sent.
// RFC 7591 §3.2.1: the server "MAY reject or replace any of the client's requested metadata
// values submitted during the registration and substitute them with suitable values"; the
// response is what holds, and a caller should say so.
type Change struct {
	Member string          `json:"member"`
	Kind   string          `json:"kind"` // ChangeIgnored or ChangeReplaced
	Sent   json.RawMessage `json:"sent,omitempty"`
	Got    json.RawMessage `json:"got,omitempty"` // absent for ChangeIgnored
	// Secret is set for a member that holds a secret (client.IsSecretMember): Sent and Got
	// are then left out, so that a Change can be printed and logged.
	Secret bool `json:"secret,omitempty"`
}

// The kinds of Change.
const (
	ChangeIgnored  = "ignored"  // the response does not have the member (or has null)
	ChangeReplaced = "replaced" // the response has another value
)

// Compare lists, sorted by member, the members of sent that got lacks or holds with another
// value. JSON null counts as absent on both sides; scope is compared as a set of scope
// tokens (RFC 6749 §3.3: the order does not matter). The values of secret members are left
// out (see Change.Secret).
func Compare(sent, got client.Metadata) []Change {
	s, g := membersOf(sent), membersOf(got)
	var out []Change
	for k, sv := range s {
		if isNull(sv) {
			continue
		}
		gv, ok := g[k]
		switch {
		case !ok || isNull(gv):
			out = append(out, Change{Member: k, Kind: ChangeIgnored, Sent: sv})
		case !SameValue(k, sv, gv):
			out = append(out, Change{Member: k, Kind: ChangeReplaced, Sent: sv, Got: gv})
		}
	}
	for i := range out {
		if client.IsSecretMember(out[i].Member) {
			out[i].Sent, out[i].Got, out[i].Secret = nil, nil, true
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Member < out[j].Member })
	return out
}

func membersOf(md client.Metadata) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	if b, err := json.Marshal(md); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

func isNull(v json.RawMessage) bool { return strings.TrimSpace(string(v)) == "null" }

// SameValue reports whether a and b, two JSON values of the metadata member called member,
// say the same: equal as JSON, or for scope the same set of scope tokens (RFC 6749 §3.3).
// It is the comparison Compare uses.
func SameValue(member string, a, b json.RawMessage) bool {
	var av, bv any
	if json.Unmarshal(a, &av) != nil || json.Unmarshal(b, &bv) != nil {
		return string(a) == string(b)
	}
	if as, ok := av.(string); ok && member == "scope" {
		if bs, ok := bv.(string); ok {
			x, y := strings.Fields(as), strings.Fields(bs)
			slices.Sort(x)
			slices.Sort(y)
			return slices.Equal(slices.Compact(x), slices.Compact(y))
		}
	}
	return reflect.DeepEqual(av, bv)
}

// cloneMetadata returns a deep copy of md.
func cloneMetadata(md client.Metadata) client.Metadata {
	var out client.Metadata
	if b, err := json.Marshal(md); err == nil && json.Unmarshal(b, &out) == nil {
		return out
	}
	return md
}
